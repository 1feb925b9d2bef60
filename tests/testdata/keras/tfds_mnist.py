# "Training a neural network on MNIST with Keras" (tensorflow.org/datasets/keras_example), the
# tensorflow_datasets idiom: tfds.load of both splits as (image, label) pairs with the data
# set's info, a normalizing function mapped over them, cache / shuffle / batch / prefetch, fit
# on the training data set validated on the test one. The output is a softmax (cloudbook
# composes probabilities; the tutorial's from_logits=True is refused) and the metric is
# written 'accuracy' (the tutorial's SparseCategoricalAccuracy() class is not read).
import tensorflow as tf
import tensorflow_datasets as tfds

(ds_train, ds_test), ds_info = tfds.load(
    'mnist',
    split=['train', 'test'],
    shuffle_files=True,
    as_supervised=True,
    with_info=True,
)


def normalize_img(image, label):
    """Normalizes images: `uint8` -> `float32`."""
    return tf.cast(image, tf.float32) / 255., label


ds_train = ds_train.map(
    normalize_img, num_parallel_calls=tf.data.AUTOTUNE)
ds_train = ds_train.cache()
ds_train = ds_train.shuffle(ds_info.splits['train'].num_examples)
ds_train = ds_train.batch(128)
ds_train = ds_train.prefetch(tf.data.AUTOTUNE)

ds_test = ds_test.map(
    normalize_img, num_parallel_calls=tf.data.AUTOTUNE)
ds_test = ds_test.batch(128)
ds_test = ds_test.cache()
ds_test = ds_test.prefetch(tf.data.AUTOTUNE)

#SKYNNET:BEGIN_MULTICLASS_ACC_LOSS
_NEURON_1 = 128
_NEURON_2 = 10
_EPOCHS = 6
model = tf.keras.models.Sequential([
    tf.keras.layers.Flatten(input_shape=(28, 28)),
    tf.keras.layers.Dense(_NEURON_1, activation='relu'),
    tf.keras.layers.Dense(_NEURON_2, activation='softmax'),
])
model.compile(
    optimizer=tf.keras.optimizers.Adam(0.001),
    loss=tf.keras.losses.SparseCategoricalCrossentropy(),
    metrics=['accuracy'],
)

model.fit(
    ds_train,
    epochs=_EPOCHS,
    validation_data=ds_test,
)
#SKYNNET:END
