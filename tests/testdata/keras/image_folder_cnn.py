# A small CNN on a folder of images (one sub-folder per class), in the style of keras.io's
# image_classification_from_scratch: image_dataset_from_directory for the training and the
# test folders, Rescaling done by dividing, a 1-channel grayscale input.
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

image_size = (28, 28)
batch_size = 32

train_ds = keras.utils.image_dataset_from_directory(
    "shapes/train", image_size=image_size, color_mode="grayscale", batch_size=batch_size,
)
test_ds = keras.utils.image_dataset_from_directory(
    "shapes/test", image_size=image_size, color_mode="grayscale", batch_size=batch_size,
)
train_ds = train_ds.prefetch(tf.data.AUTOTUNE)

#SKYNNET:BEGIN_MULTICLASS_ACC
_FILTERS_1 = 8
_FILTERS_2 = 16
_NEURON_1 = 3
_EPOCHS = 2
model = keras.Sequential([
    keras.Input(shape=image_size + (1,)),
    layers.Conv2D(_FILTERS_1, 3, activation="relu"),
    layers.MaxPooling2D(),
    layers.Conv2D(_FILTERS_2, 3, activation="relu"),
    layers.GlobalMaxPooling2D(),
    layers.Dense(_NEURON_1, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(train_ds, epochs=_EPOCHS)
model.evaluate(test_ds)
#SKYNNET:END
