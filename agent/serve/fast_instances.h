// The common predict body, {"instances": [<sample>, ...]} with every sample a nested list of
// plain numbers of the model's input shape (or flat), read in one pass without building a JSON
// tree: about 10x faster than the general parser on a batch of 256 images, where parsing was
// most of a request's time (bench/serve_bench.py). Anything else (another key, objects, b64
// images, strings, other shapes, a number JSON or double cannot hold exactly as the general
// path would) is left to ParsePredictRequest's general path, which gives the same values or
// the error message: this is only a faster road to the same answer. Pure function.
#pragma once

#include <string>

#include "shared/data/array.h"
#include "shared/formats/run_model.h"

namespace cloudbook {

// True, with `x` = [samples, input_shape...] of raw values divided by `scale` (in double, then
// rounded to float, as the data readers divide), when `body` is that common form with at most
// `max_instances` samples; false (x untouched) when the general parser must decide.
bool ParsePlainInstances(const std::string& body, const RunModel& model, double scale,
                         int64_t max_instances, Array* x);

}  // namespace cloudbook
