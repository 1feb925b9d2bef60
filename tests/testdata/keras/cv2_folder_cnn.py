# A CNN on a folder of images read by a Python loop with OpenCV, the SkyNNet / Kaggle idiom:
# one sub-folder per class, each file read in grayscale, resized to 28 x 28, the class id the
# sub-folder's position in sorted order; x scaled by 255; a test folder read the same way.
import os

import cv2
import numpy as np
from tensorflow import keras
from tensorflow.keras import layers

IMG_SIZE = 28


def load_folder(root):
    x = []
    y = []
    for label, name in enumerate(sorted(os.listdir(root))):
        folder = os.path.join(root, name)
        for f in sorted(os.listdir(folder)):
            img = cv2.imread(os.path.join(folder, f), cv2.IMREAD_GRAYSCALE)
            if img is None:
                continue
            img = cv2.resize(img, (IMG_SIZE, IMG_SIZE))
            x.append(img)
            y.append(label)
    x = np.array(x).reshape(-1, IMG_SIZE, IMG_SIZE, 1) / 255.0
    y = np.array(y)
    return x, y


x_train, y_train = load_folder("shapes/train")
x_test, y_test = load_folder("shapes/test")
print(x_train.shape, y_train.shape)

#SKYNNET:BEGIN_MULTICLASS_ACC
_FILTERS_1 = 8
_FILTERS_2 = 16
_NEURON_1 = 64
_NEURON_2 = 3
_EPOCHS = 2
model = keras.Sequential([
    keras.Input(shape=(IMG_SIZE, IMG_SIZE, 1)),
    layers.Conv2D(_FILTERS_1, 3, activation="relu"),
    layers.MaxPooling2D(),
    layers.Conv2D(_FILTERS_2, 3, activation="relu"),
    layers.Flatten(),
    layers.Dense(_NEURON_1, activation="relu"),
    layers.Dense(_NEURON_2, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(x_train, y_train, epochs=_EPOCHS, batch_size=32)
model.evaluate(x_test, y_test)
#SKYNNET:END
