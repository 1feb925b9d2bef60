# A dense autoencoder on Fashion-MNIST validated on held-out images (fit's validation_data),
# in the style of keras.io's autoencoder examples, after a seeded subset of the training rows.
import numpy as np
import tensorflow as tf
from tensorflow.keras import layers, models

(x_train, _), (x_test, _) = tf.keras.datasets.fashion_mnist.load_data()
x_train = x_train.astype("float32") / 255.0
x_test = x_test.astype("float32") / 255.0
np.random.seed(7)
idx = np.random.choice(len(x_train), 2000, replace=False)
x_train = x_train[idx]

#SKYNNET:BEGIN_REGRESSION_LOSS
_DATA_TRAIN_X = x_train
_DATA_TRAIN_Y = x_train
_NEURON_1 = 64
_NEURON_2 = 784
_EPOCHS = 2
model = models.Sequential([
    layers.Flatten(input_shape=(28, 28)),
    layers.Dense(_NEURON_1, activation="relu"),
    layers.Dense(_NEURON_2, activation="sigmoid"),
])
model.compile(optimizer="adam", loss="mse")
model.fit(_DATA_TRAIN_X, _DATA_TRAIN_Y, epochs=_EPOCHS, batch_size=64,
          validation_data=(x_test, x_test))
decoded = model.predict(x_test[:10])
#SKYNNET:END
