import tensorflow as tf
(x, y), (a, b) = tf.keras.datasets.mnist.load_data()
x = x.reshape(-1, 1e300)
#SKYNNET:BEGIN_MULTICLASS
_NEURON_1 = 10
#SKYNNET:END
