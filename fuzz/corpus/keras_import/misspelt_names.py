# A CNN whose tagged variables are misspelt or computed, as people wrote them for the
# original sk_tool: the import warns about each one and says what sk_tool did with it.
import tensorflow as tf
from tensorflow.keras.layers import Conv2D, MaxPooling2D, Flatten, Dense

(x_train, y_train), (x_test, y_test) = tf.keras.datasets.fashion_mnist.load_data()
x_train = x_train.astype('float32') / 255
x_test = x_test.astype('float32') / 255

#SKYNNET:BEGIN_MULTICLASS_ACC
_DATA_TRAIN_X = x_train
_DATA_TRAIN_Y = y_train
_DATA_TEST_X = x_test
_DATA_TEST_Y = y_test
_FILTER_1 = 16
_FILTERS_2 = 4 * 8
_NEURONS_1 = 32
_NEURON_2 = 10
_EMBEDING_ = 16
_EPOCHS_ = 2

model = tf.keras.Sequential([
    tf.keras.Input(shape=(28, 28, 1)),
    Conv2D(_FILTER_1, 3, activation='relu'),
    MaxPooling2D(),
    Conv2D(_FILTERS_2, 3, activation='relu', padding='same'),
    Flatten(),
    Dense(_NEURONS_1, activation='relu'),
    Dense(_NEURON_2, activation='softmax'),
])
model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])
model.fit(_DATA_TRAIN_X, _DATA_TRAIN_Y, epochs=_EPOCHS_, validation_split=0.2)
predicted = model.predict(_DATA_TEST_X)
#SKYNNET:END
