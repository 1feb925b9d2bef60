# A binary net in the style of SkyNNet's bin_orig.py: Dense 64/2 on two Fashion-MNIST classes,
# read from IDX files that configs/fashion_binary/prepare_data.py makes (paths relative to
# the working directory, distributed/working_dir under cloudbook). Test program for
# `cloudbook-maker import`.
import os
os.environ['TF_CPP_MIN_LOG_LEVEL'] = '1'
import gzip
import idx2numpy
import tensorflow as tf, numpy as np

#__CLOUDBOOK:NONSHARED__
x_train = idx2numpy.convert_from_file(gzip.open('fashion-binary/train-images-idx3-ubyte.gz'))
y_train = idx2numpy.convert_from_file(gzip.open('fashion-binary/train-labels-idx1-ubyte.gz'))
x_test = idx2numpy.convert_from_file(gzip.open('fashion-binary/t10k-images-idx3-ubyte.gz'))
y_test = idx2numpy.convert_from_file(gzip.open('fashion-binary/t10k-labels-idx1-ubyte.gz'))

x_train = x_train / 255.0
x_test = x_test / 255.0


def main():
    pass


#SKYNNET:BEGIN_BINARYCLASS_ACC_LOSS

_DATA_TRAIN_X = x_train
_DATA_TRAIN_Y = y_train
_DATA_TEST_X = x_test
_DATA_TEST_Y = y_test
_NEURON_1 = 64
_NEURON_2 = 2
_EPOCHS = 5

model = tf.keras.models.Sequential()
model.add(tf.keras.layers.Flatten(input_shape=(28, 28)))
model.add(tf.keras.layers.Dense(_NEURON_1, activation='relu'))
model.add(tf.keras.layers.Dropout(0.2))
model.add(tf.keras.layers.Dense(_NEURON_2, activation='softmax'))

model.compile(optimizer=tf.keras.optimizers.SGD(learning_rate=0.05, momentum=0.9),
              loss='sparse_categorical_crossentropy',
              metrics=['accuracy'])

model.fit(_DATA_TRAIN_X, _DATA_TRAIN_Y,
          validation_split=0.1,
          batch_size=64,
          epochs=_EPOCHS)

predicted = model.predict(_DATA_TEST_X)

#SKYNNET:END
