# Broken on purpose: a layer outside the supported subset inside the SKYNNET block.
import tensorflow as tf

(x_train, y_train), (x_test, y_test) = tf.keras.datasets.mnist.load_data()

#SKYNNET:BEGIN_MULTICLASS_ACC_LOSS
_DATA_TRAIN_X = x_train
_DATA_TRAIN_Y = y_train
_NEURON_1 = 10
_EPOCHS = 2
model = tf.keras.Sequential([
    tf.keras.layers.Reshape((28, 28), input_shape=(28, 28)),
    tf.keras.layers.SimpleRNN(32, activation='relu'),
    tf.keras.layers.Flatten(),
    tf.keras.layers.Dense(_NEURON_1, activation='softmax'),
])
model.compile(optimizer='adam', loss='sparse_categorical_crossentropy')
model.fit(_DATA_TRAIN_X, _DATA_TRAIN_Y, epochs=_EPOCHS)
#SKYNNET:END
