# Text classification with a Transformer, in the style of keras.io's
# text_classification_with_transformer: imdb reviews as token ids, keras.io's
# TokenAndPositionEmbedding and TransformerBlock classes, a binary softmax head.
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

vocab_size = 20000  # Only consider the top 20k words
maxlen = 200  # Only consider the first 200 words of each movie review


class TransformerBlock(layers.Layer):
    def __init__(self, embed_dim, num_heads, ff_dim, rate=0.1):
        super().__init__()
        self.att = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
        self.ffn = keras.Sequential(
            [layers.Dense(ff_dim, activation="relu"), layers.Dense(embed_dim),]
        )
        self.layernorm1 = layers.LayerNormalization(epsilon=1e-6)
        self.layernorm2 = layers.LayerNormalization(epsilon=1e-6)
        self.dropout1 = layers.Dropout(rate)
        self.dropout2 = layers.Dropout(rate)

    def call(self, inputs, training=False):
        attn_output = self.att(inputs, inputs)
        attn_output = self.dropout1(attn_output, training=training)
        out1 = self.layernorm1(inputs + attn_output)
        ffn_output = self.ffn(out1)
        ffn_output = self.dropout2(ffn_output, training=training)
        return self.layernorm2(out1 + ffn_output)


class TokenAndPositionEmbedding(layers.Layer):
    def __init__(self, maxlen, vocab_size, embed_dim):
        super().__init__()
        self.token_emb = layers.Embedding(input_dim=vocab_size, output_dim=embed_dim)
        self.pos_emb = layers.Embedding(input_dim=maxlen, output_dim=embed_dim)

    def call(self, x):
        maxlen = tf.shape(x)[-1]
        positions = tf.range(start=0, limit=maxlen, delta=1)
        positions = self.pos_emb(positions)
        x = self.token_emb(x)
        return x + positions


(x_train, y_train), (x_val, y_val) = keras.datasets.imdb.load_data(num_words=vocab_size)
print(len(x_train), "Training sequences")
x_train = keras.utils.pad_sequences(x_train, maxlen=maxlen)
x_val = keras.utils.pad_sequences(x_val, maxlen=maxlen)

#SKYNNET:BEGIN_BINARYCLASS_ACC_LOSS
_DATA_TRAIN_X = x_train
_DATA_TRAIN_Y = y_train
_DATA_TEST_X = x_val
_DATA_TEST_Y = y_val
_EMBEDDING_1 = 32  # Embedding size for each token
_NEURON_1 = 32  # Hidden layer size in feed forward network inside transformer
_NEURON_2 = 20
_NEURON_3 = 2
num_heads = 2  # Number of attention heads

inputs = layers.Input(shape=(maxlen,))
embedding_layer = TokenAndPositionEmbedding(maxlen, vocab_size, _EMBEDDING_1)
x = embedding_layer(inputs)
transformer_block = TransformerBlock(_EMBEDDING_1, num_heads, _NEURON_1)
x = transformer_block(x)
x = layers.GlobalAveragePooling1D()(x)
x = layers.Dropout(0.1)(x)
x = layers.Dense(_NEURON_2, activation="relu")(x)
x = layers.Dropout(0.1)(x)
outputs = layers.Dense(_NEURON_3, activation="softmax")(x)

model = keras.Model(inputs=inputs, outputs=outputs)
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
history = model.fit(_DATA_TRAIN_X, _DATA_TRAIN_Y, batch_size=32, epochs=2)
predictions = model.predict(_DATA_TEST_X)
print(predictions[:5])
#SKYNNET:END
