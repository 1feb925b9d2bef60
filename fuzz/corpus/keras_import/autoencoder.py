# An autoencoder in the style of SkyNNet's autoenc_orig.py (Dense 128/32/128/784), on
# Fashion-MNIST: the target is the input image. Test program for `cloudbook-maker import`.
import tensorflow as tf
import numpy as np
import matplotlib.pyplot as plt
import time

(x_train, y_train), (x_test, y_test) = tf.keras.datasets.fashion_mnist.load_data()
x_train = x_train.astype('float32') / 255
x_test = x_test.astype('float32') / 255

# input shape: one row of 784 values per image
x_train = x_train.reshape((len(x_train), np.prod(x_train.shape[1:])))
x_test = x_test.reshape((len(x_test), np.prod(x_test.shape[1:])))

#SKYNNET:BEGIN_REGRESSION
data_dim_input = 784

_DATA_TRAIN_X = x_train
_DATA_TRAIN_Y = x_train
_DATA_TEST_X = x_test
_DATA_TEST_Y = x_test
_NEURON_1 = 128
_NEURON_2 = 32
_NEURON_3 = 128
_NEURON_4 = 784
_EPOCHS = 5

# Placeholder for the input
input_image = tf.keras.layers.Input(shape=(data_dim_input,))
encoded = tf.keras.layers.Dense(_NEURON_1, activation='relu')(input_image)
encoded = tf.keras.layers.Dense(_NEURON_2, activation='relu')(encoded)
decoded = tf.keras.layers.Dense(_NEURON_3, activation='relu')(encoded)
decoded = tf.keras.layers.Dense(_NEURON_4, activation='sigmoid')(decoded)

# Autoencoder model mapping an input to its reconstruction
autoencoder = tf.keras.models.Model(input_image, decoded)

autoencoder.compile(optimizer='adam', loss='mse')

start = time.time()
autoencoder.fit(_DATA_TRAIN_X, _DATA_TRAIN_X,
                epochs=_EPOCHS,
                batch_size=256,
                shuffle=True,
                validation_split=0.1)
end = time.time()
print(" training time (seconds) =", (end - start))

reconstructed_img = autoencoder.predict(_DATA_TEST_X)

#SKYNNET:END

plt.imshow(reconstructed_img[0].reshape(28, 28))
