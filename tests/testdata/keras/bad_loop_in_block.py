# Broken on purpose: a loop in the SKYNNET block whose count comes from the data.
import tensorflow as tf

(x_train, y_train), (x_test, y_test) = tf.keras.datasets.mnist.load_data()

#SKYNNET:BEGIN_MULTICLASS
_DATA_TRAIN_X = x_train
_DATA_TRAIN_Y = y_train
_NEURON_1 = 64
_NEURON_2 = 10
_EPOCHS = 2
model = tf.keras.Sequential()
model.add(tf.keras.layers.Flatten(input_shape=(28, 28)))
for i in range(len(x_train) // 30000):
    model.add(tf.keras.layers.Dense(_NEURON_1, activation='relu'))
model.add(tf.keras.layers.Dense(_NEURON_2, activation='softmax'))
model.compile(optimizer='adam', loss='sparse_categorical_crossentropy')
model.fit(_DATA_TRAIN_X, _DATA_TRAIN_Y, epochs=_EPOCHS)
#SKYNNET:END
