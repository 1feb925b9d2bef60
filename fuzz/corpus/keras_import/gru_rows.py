# A recurrent net in the style of SkyNNet's rnn_orig.py: each Fashion-MNIST image read as 28
# time steps of 28 values (its rows), a GRU of 64 cells, batch normalisation and a softmax
# over the 10 classes. Test program for `cloudbook-maker import`.
import tensorflow as tf
import numpy as np
import time

# load the training data
(x_train, y_train), (x_test, y_test) = tf.keras.datasets.fashion_mnist.load_data()
# scale to 0..1
x_train = x_train.astype('float32') / 255
x_test = x_test.astype('float32') / 255


#SKYNNET:BEGIN_MULTICLASS

_DATA_TRAIN_X = x_train
_DATA_TRAIN_Y = y_train

_DATA_TEST_X = x_test
_DATA_TEST_Y = y_test

_CELL_1 = 64
_NEURON_1 = 10

_EPOCHS = 3

model = tf.keras.Sequential()
model.add(tf.keras.layers.Input(shape=(28, 28)))  # 28 time steps of 28 values
model.add(tf.keras.layers.GRU(_CELL_1))  # 64 GRU cells
model.add(tf.keras.layers.BatchNormalization())
model.add(tf.keras.layers.Dense(_NEURON_1, activation='softmax'))  # 10 classes
print(model.summary())

model.compile(
    loss='sparse_categorical_crossentropy',
    optimizer="sgd",
    metrics=["accuracy"],
)

start = time.time()
model.fit(
    _DATA_TRAIN_X, _DATA_TRAIN_Y,
    validation_split=0.1,
    batch_size=32,
    epochs=_EPOCHS
)
end = time.time()
print(" training time (seconds) =", (end - start))

predicted = model.predict(_DATA_TEST_X)

#SKYNNET:END
