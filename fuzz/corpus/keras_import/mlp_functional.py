# An MLP written with the Keras functional API, in the style of SkyNNet's mlp_orig_func.py,
# on Fashion-MNIST (Dense 128/60/10). Test program for `cloudbook-maker import`.
import tensorflow as tf, numpy as np
import matplotlib.pyplot as plt
import time

# Load Fashion-MNIST with the built-in download function
fashion = tf.keras.datasets.fashion_mnist
(x_train, y_train), (x_test, y_test) = fashion.load_data()

# Normalize the pixel values by dividing each pixel by 255
x_train, x_test = x_train / 255.0, x_test / 255.0

#SKYNNET:BEGIN_MULTICLASS_ACC_LOSS

_DATA_TRAIN_X = x_train
_DATA_TRAIN_Y = y_train
_DATA_TEST_X = x_test
_DATA_TEST_Y = y_test
_NEURON_1 = 128
_NEURON_2 = 60
_NEURON_3 = 10
_EPOCHS = 10

# Functional model
inputs = tf.keras.Input(shape=(28, 28))
x = tf.keras.layers.Flatten()(inputs)
x = tf.keras.layers.Dense(_NEURON_1, activation='relu')(x)
x = tf.keras.layers.Dense(_NEURON_2, activation='relu')(x)
outputs = tf.keras.layers.Dense(_NEURON_3, activation='softmax')(x)
model = tf.keras.Model(inputs=inputs, outputs=outputs)

print(model.summary())

model.compile(optimizer='adam',
              loss='sparse_categorical_crossentropy',
              metrics=['accuracy'])

start = time.time()
model.fit(_DATA_TRAIN_X, _DATA_TRAIN_Y, validation_split=0.1, epochs=_EPOCHS)
end = time.time()
print(" training time (seconds) =", (end - start))

predicted = model.predict(_DATA_TEST_X)

#SKYNNET:END

plt.plot(predicted[0])
plt.show()
print("End of program")
