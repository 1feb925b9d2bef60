import idx2numpy
x = idx2numpy.convert_from_file('a.idx').reshape(-1, 28, 28)
y = x.reshape(-1, 4000000000, 4000000000, 4000000000)
#SKYNNET:BEGIN_MULTICLASS
_NEURON_1 = 10
#SKYNNET:END
