// Finding a program the way a shell would: a name with a '/' is taken as a path, any other
// name is searched on $PATH. Used before fork (execve in a child must not allocate).
#pragma once

#include <string>

namespace cloudbook {

// The executable's path, or "" when it is absent or not executable.
std::string FindExecutable(const std::string& program);

}  // namespace cloudbook
