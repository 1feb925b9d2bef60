# Broken on purpose: fit(validation_data=...) with a validation set sliced off the test
# data (rows the program format cannot give a validation set).
import tensorflow as tf

(x_train, y_train), (x_test, y_test) = tf.keras.datasets.mnist.load_data()
x_validate, y_validate = x_test[:-10], y_test[:-10]

#SKYNNET:BEGIN_MULTICLASS
_DATA_TRAIN_X = x_train
_DATA_TRAIN_Y = y_train
_DATA_VAL_X = x_validate
_DATA_VAL_Y = y_validate
_NEURON_1 = 10
_EPOCHS = 2
model = tf.keras.Sequential([
    tf.keras.layers.Flatten(input_shape=(28, 28)),
    tf.keras.layers.Dense(_NEURON_1, activation='softmax'),
])
model.compile(optimizer='sgd', loss='sparse_categorical_crossentropy')
model.fit(_DATA_TRAIN_X, _DATA_TRAIN_Y, validation_data=(_DATA_VAL_X, _DATA_VAL_Y),
          epochs=_EPOCHS)
#SKYNNET:END
