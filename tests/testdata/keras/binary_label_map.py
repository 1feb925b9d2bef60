# Even or odd digits: MNIST's ten classes mapped to two labels with np.where, the first
# 6000 training images, and a constant switch between two network sizes.
import numpy as np
import tensorflow as tf

SMALL = True
(x_train, y_train), (x_test, y_test) = tf.keras.datasets.mnist.load_data()
x_train, y_train = x_train[:6000] / 255.0, y_train[:6000]
x_test = x_test / 255.0
y_train = np.where(y_train % 2 == 0, 0, 1)
y_test = np.where(y_test % 2 == 0, 0, 1)

#SKYNNET:BEGIN_BINARYCLASS_ACC
_DATA_TRAIN_X = x_train
_DATA_TRAIN_Y = y_train
_DATA_TEST_X = x_test
_DATA_TEST_Y = y_test
_NEURON_1 = 32
_NEURON_2 = 2
model = tf.keras.Sequential()
model.add(tf.keras.layers.Flatten(input_shape=(28, 28)))
if SMALL:
    model.add(tf.keras.layers.Dense(_NEURON_1, activation="relu"))
else:
    for width in [256, 128]:
        model.add(tf.keras.layers.Dense(width, activation="relu"))
model.add(tf.keras.layers.Dense(_NEURON_2, activation="softmax"))
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(_DATA_TRAIN_X, _DATA_TRAIN_Y, epochs=2, validation_split=0.1)
#SKYNNET:END
