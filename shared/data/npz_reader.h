// Reads one array of a NumPy .npz archive (what np.savez and np.savez_compressed write: a zip
// of <key>.npy members, stored or deflated, zip64 included) through minizip. np.load(path)[key]
// reads member "<key>.npy"; so does this. Errors name the archive, the key and the cause (a
// missing key lists the keys present). Pure function, thread-safe (one zip handle per call).
#pragma once

#include <string>

#include "shared/data/npy_reader.h"
#include "shared/status.h"

namespace cloudbook {

Result<Array> ReadNpzMember(const std::string& path, const std::string& key,
                            const NpyReadOptions& options = {});

}  // namespace cloudbook
