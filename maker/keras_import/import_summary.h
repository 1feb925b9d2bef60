// What `cloudbook-maker import` tells the user after writing the program file: the problem,
// the tagged variables, each layer with its line in the .py file, the training settings, the
// data files (present or MISSING, and where to get a Keras data set) and the next command.
// Pure formatting; the caller logs warnings and picks the exit code.
#pragma once

#include <ostream>
#include <string>

#include "maker/keras_import/keras_import.h"

namespace cloudbook {

void PrintImportSummary(const KerasImport& imported, const ImportWriteReport& written,
                        const std::string& project_folder, std::ostream& out);

}  // namespace cloudbook
