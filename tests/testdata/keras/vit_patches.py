# A small Vision Transformer on MNIST, in the style of keras.io's
# image_classification_with_vision_transformer: keras.io's Patches and PatchEncoder layers,
# transformer layers built in a loop, an MLP helper, and evaluation after training.
import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers
import matplotlib.pyplot as plt

num_classes = 10
input_shape = (28, 28, 1)
(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
x_train = np.expand_dims(x_train, -1) / 255.0
x_test = np.expand_dims(x_test, -1) / 255.0

image_size = 28
patch_size = 7
num_patches = (image_size // patch_size) ** 2
num_heads = 2
transformer_layers = 2


def mlp(x, hidden_units, dropout_rate):
    for units in hidden_units:
        x = layers.Dense(units, activation=tf.nn.gelu)(x)
        x = layers.Dropout(dropout_rate)(x)
    return x


class Patches(layers.Layer):
    def __init__(self, patch_size):
        super().__init__()
        self.patch_size = patch_size

    def call(self, images):
        batch_size = tf.shape(images)[0]
        patches = tf.image.extract_patches(
            images=images,
            sizes=[1, self.patch_size, self.patch_size, 1],
            strides=[1, self.patch_size, self.patch_size, 1],
            rates=[1, 1, 1, 1],
            padding="VALID",
        )
        patch_dims = patches.shape[-1]
        patches = tf.reshape(patches, [batch_size, -1, patch_dims])
        return patches


class PatchEncoder(layers.Layer):
    def __init__(self, num_patches, projection_dim):
        super().__init__()
        self.num_patches = num_patches
        self.projection = layers.Dense(units=projection_dim)
        self.position_embedding = layers.Embedding(
            input_dim=num_patches, output_dim=projection_dim
        )

    def call(self, patch):
        positions = tf.range(start=0, limit=self.num_patches, delta=1)
        encoded = self.projection(patch) + self.position_embedding(positions)
        return encoded


#SKYNNET:BEGIN_MULTICLASS_ACC
_DATA_TRAIN_X = x_train
_DATA_TRAIN_Y = y_train
_DATA_TEST_X = x_test
_DATA_TEST_Y = y_test
_EMBEDDING_1 = 16  # projection_dim
_NEURON_1 = 32
_NEURON_2 = 16
_NEURON_3 = 10
_EPOCHS = 1

inputs = layers.Input(shape=input_shape)
patches = Patches(patch_size)(inputs)
encoded_patches = PatchEncoder(num_patches, _EMBEDDING_1)(patches)
for _ in range(transformer_layers):
    x1 = layers.LayerNormalization(epsilon=1e-6)(encoded_patches)
    attention_output = layers.MultiHeadAttention(
        num_heads=num_heads, key_dim=_EMBEDDING_1, dropout=0.1
    )(x1, x1)
    x2 = layers.Add()([attention_output, encoded_patches])
    x3 = layers.LayerNormalization(epsilon=1e-6)(x2)
    x3 = mlp(x3, hidden_units=[_NEURON_1, _EMBEDDING_1], dropout_rate=0.1)
    encoded_patches = layers.Add()([x3, x2])
representation = layers.LayerNormalization(epsilon=1e-6)(encoded_patches)
representation = layers.Flatten()(representation)
representation = layers.Dropout(0.5)(representation)
features = mlp(representation, hidden_units=[_NEURON_2], dropout_rate=0.5)
outputs = layers.Dense(_NEURON_3, activation="softmax")(features)
model = keras.Model(inputs=inputs, outputs=outputs)
model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.001),
              loss="sparse_categorical_crossentropy")
history = model.fit(_DATA_TRAIN_X, _DATA_TRAIN_Y, batch_size=64, epochs=_EPOCHS,
                    validation_split=0.1)
_, accuracy = model.evaluate(_DATA_TEST_X, _DATA_TEST_Y)
print(f"Test accuracy: {round(accuracy * 100, 2)}%")
predictions = model.predict(_DATA_TEST_X)
for i in range(5):
    print(np.argmax(predictions[i]), y_test[i])
plt.plot(history.history["loss"])
#SKYNNET:END
