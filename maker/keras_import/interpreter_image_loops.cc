// Interpreter: image folders read by a Python loop, the SkyNNet / Kaggle idiom
//   for label, cls in enumerate(sorted(os.listdir(root))):
//       for f in os.listdir(os.path.join(root, cls)):
//           img = cv2.imread(os.path.join(root, cls, f))      # or PIL's Image.open(p).convert()
//           img = cv2.resize(img, (W, H))
//           x.append(img); y.append(label)
// becomes the program format's `images:` source (x) and its class ids (y). What differs from
// cloudbook's reader without changing the network (BGR order, listdir's order, cv2's uint8
// bilinear) is said in the summary notes; what differs materially is refused with its line
// (PIL's antialiasing resize, other interpolations, channel-specific steps), as is sklearn's
// train_test_split, which cloudbook's test_split does not reproduce. Sources: keras-semantics
// §3.4 (cv2 / PIL), §4.3 (resize); sklearn.model_selection.ShuffleSplit._iter_indices.
#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "maker/keras_import/interpreter.h"

namespace cloudbook::keras_import {
namespace {

constexpr char kClassMark = '\x01';  // a class folder's name inside a path
constexpr char kFileMark = '\x02';   // a file's name inside a path

bool IsListing(const Value& value) {
  return value.is(Value::Kind::kFile) &&
         (value.source == "listdir" || value.source == "sorted_listdir");
}

// An image as the loop has it so far.
struct LoopImage {
  std::string reader;  // cv2 | pil | keras
  std::string color;   // bgr | rgb | grayscale | as_is (PIL without convert)
  std::optional<std::pair<int64_t, int64_t>> size;  // (height, width) after cv2.resize
  double scale = 1.0;
  int line = 0;         // where the file is read
  int resize_line = 0;  // where cv2.resize resizes it
};

// What a name or expression of the loop stands for.
struct LoopItem {
  enum class Kind { kValue, kPath, kListing, kLabel, kImage };
  Kind kind = Kind::kValue;
  Value value;       // kValue: a constant of the program
  std::string path;  // kPath / kListing: text with kClassMark / kFileMark
  bool sorted = false;
  LoopImage image;
};

struct Refusal {
  int line = 0;
  std::string what;
};

// What the loop reads, once it is understood.
struct LoopRead {
  std::string x_list;
  std::string y_list;
  LoopImage image;
  bool files_sorted = false;
  bool skips_unreadable = false;  // if img is None: continue
};

std::string JoinPath(const std::vector<std::string>& parts) {
  std::string path;
  for (const std::string& part : parts) {
    if (!path.empty() && path.back() != '/') path += '/';
    path += part;
  }
  return path;
}

// Reads the loop's statements into a LoopRead, or the first thing it cannot carry.
class LoopReader {
 public:
  LoopReader(std::function<Value(const Expr&)> eval, std::string root)
      : eval_(std::move(eval)), root_(std::move(root)) {}

  std::optional<Refusal> Outer(const Statement& loop, const Value& classes) {
    const Expr& target = *loop.targets[0];
    if (target.kind == Expr::Kind::kTuple && target.items.size() == 2 &&
        target.items[0]->kind == Expr::Kind::kName && target.items[1]->kind == Expr::Kind::kName &&
        enumerated_) {
      names_[target.items[0]->text].kind = LoopItem::Kind::kLabel;
      names_[target.items[1]->text] = PathItem(std::string(1, kClassMark));
    } else if (target.kind == Expr::Kind::kName && !enumerated_) {
      names_[target.text] = PathItem(std::string(1, kClassMark));
      classes_ = classes;
    } else {
      return Refusal{loop.line, "the loop's variables are not 'label, name in enumerate(...)'"};
    }
    bool inner_seen = false;
    for (const Statement& statement : loop.body) {
      if (statement.kind == Statement::Kind::kFor) {
        if (inner_seen) return Refusal{statement.line, "a second loop over the class folder"};
        inner_seen = true;
        if (auto refusal = Inner(statement)) return refusal;
      } else if (auto refusal = Simple(statement, false)) {
        return refusal;
      }
    }
    if (!inner_seen || read_.x_list.empty() || read_.y_list.empty()) {
      return Refusal{loop.line,
                     "the loop does not append each image and its class id to two lists "
                     "(x.append(img); y.append(label)) in a loop over the class folder's files"};
    }
    return std::nullopt;
  }

  void SetEnumerated(bool enumerated) { enumerated_ = enumerated; }
  const LoopRead& read() const { return read_; }

 private:
  static LoopItem PathItem(std::string path) {
    LoopItem item;
    item.kind = LoopItem::Kind::kPath;
    item.path = std::move(path);
    return item;
  }

  std::optional<Refusal> Inner(const Statement& loop) {
    std::optional<Refusal> refusal;
    LoopItem files = Eval(*loop.value, &refusal);
    if (refusal) return refusal;
    if (files.kind != LoopItem::Kind::kListing ||
        files.path != root_ + "/" + std::string(1, kClassMark)) {
      return Refusal{loop.line, "the inner loop does not list the class folder (os.listdir(" +
                                    std::string("os.path.join(root, name)))")};
    }
    if (loop.targets[0]->kind != Expr::Kind::kName) {
      return Refusal{loop.line, "the inner loop's variable is not one name"};
    }
    read_.files_sorted = files.sorted;
    names_[loop.targets[0]->text] = PathItem(std::string(1, kFileMark));
    for (const Statement& statement : loop.body) {
      if (auto inner = Simple(statement, true)) return inner;
    }
    if (!loop.orelse.empty()) return Refusal{loop.line, "a for ... else"};
    return std::nullopt;
  }

  // An assignment, an append, print, or `if img is None: continue`.
  std::optional<Refusal> Simple(const Statement& statement, bool in_files) {
    const int line = statement.line;
    std::optional<Refusal> refusal;
    if (statement.kind == Statement::Kind::kAssign && statement.targets.size() == 1 &&
        statement.targets[0]->kind == Expr::Kind::kName) {
      LoopItem item = Eval(*statement.value, &refusal);
      if (refusal) return refusal;
      names_[statement.targets[0]->text] = item;
      return std::nullopt;
    }
    if (statement.kind == Statement::Kind::kIf && in_files && statement.orelse.empty() &&
        statement.body.size() == 1 && statement.body[0].kind == Statement::Kind::kPass &&
        statement.body[0].text == "continue" && statement.value->kind == Expr::Kind::kCompare &&
        statement.value->text == "is" && statement.value->items[0]->kind == Expr::Kind::kName &&
        statement.value->items[1]->kind == Expr::Kind::kName &&
        statement.value->items[1]->text == "None") {
      const auto found = names_.find(statement.value->items[0]->text);
      if (found != names_.end() && found->second.kind == LoopItem::Kind::kImage) {
        read_.skips_unreadable = true;
        return std::nullopt;
      }
    }
    if (statement.kind == Statement::Kind::kExpression &&
        statement.value->kind == Expr::Kind::kCall) {
      const Expr& call = *statement.value;
      const Expr& callee = *call.object;
      if (callee.kind == Expr::Kind::kName && callee.text == "print") return std::nullopt;
      if (callee.kind == Expr::Kind::kAttribute && callee.text == "append" && in_files &&
          callee.object->kind == Expr::Kind::kName && call.arguments.size() == 1 &&
          call.arguments[0].keyword.empty()) {
        LoopItem item = Eval(*call.arguments[0].value, &refusal);
        if (refusal) return refusal;
        const std::string& list = callee.object->text;
        if (item.kind == LoopItem::Kind::kImage && read_.x_list.empty()) {
          if (item.image.color == "as_is") {
            return Refusal{line,
                           "PIL's Image.open(...) keeps each file's own mode (palette, RGBA, "
                           "16-bit), which cloudbook does not: add .convert('RGB') or "
                           ".convert('L')"};
          }
          read_.x_list = list;
          read_.image = item.image;
          return std::nullopt;
        }
        if (item.kind == LoopItem::Kind::kLabel && read_.y_list.empty()) {
          read_.y_list = list;
          return std::nullopt;
        }
      }
    }
    return Refusal{line, "'" + statement.source + "' is not followed in an image-folder loop"};
  }

  LoopItem Eval(const Expr& expr, std::optional<Refusal>* refusal) {
    const auto refuse = [&](const std::string& why) {
      if (!*refusal) *refusal = Refusal{expr.line, "'" + expr.source + "': " + why};
      return LoopItem();
    };
    switch (expr.kind) {
      case Expr::Kind::kName: {
        const auto found = names_.find(expr.text);
        if (found != names_.end()) return found->second;
        break;
      }
      case Expr::Kind::kBinary: {
        LoopItem left = Eval(*expr.items[0], refusal);
        LoopItem right = Eval(*expr.items[1], refusal);
        if (*refusal) return LoopItem();
        if (expr.text == "+" && left.kind == LoopItem::Kind::kPath &&
            right.kind == LoopItem::Kind::kPath) {
          return PathItem(left.path + right.path);
        }
        if (expr.text == "/" && left.kind == LoopItem::Kind::kImage &&
            right.kind == LoopItem::Kind::kValue && right.value.is(Value::Kind::kNumber) &&
            right.value.number > 0) {
          left.image.scale *= right.value.number;
          return left;
        }
        if (left.kind == LoopItem::Kind::kImage || right.kind == LoopItem::Kind::kImage) {
          return refuse(
              "changes the pixels in a way the program format cannot express (it "
              "divides by a number only)");
        }
        break;
      }
      case Expr::Kind::kCall:
        return Call(expr, refusal);
      default:
        break;
    }
    LoopItem item;
    item.value = eval_(expr);
    if (item.value.is(Value::Kind::kString)) return PathItem(item.value.text);
    if (IsListing(item.value)) {
      item.kind = LoopItem::Kind::kListing;
      item.path = item.value.text;
      item.sorted = item.value.source == "sorted_listdir";
    }
    return item;
  }

  LoopItem Call(const Expr& expr, std::optional<Refusal>* refusal) {
    const auto refuse = [&](const std::string& why) {
      if (!*refusal) *refusal = Refusal{expr.line, "'" + expr.source + "': " + why};
      return LoopItem();
    };
    std::vector<LoopItem> args;
    std::map<std::string, LoopItem> keywords;
    for (const Argument& argument : expr.arguments) {
      if (argument.star) return refuse("*args are not followed");
      LoopItem item = Eval(*argument.value, refusal);
      if (*refusal) return LoopItem();
      if (argument.keyword.empty()) {
        args.push_back(item);
      } else {
        keywords[argument.keyword] = item;
      }
    }
    const Expr& callee = *expr.object;
    // A method of an image (PIL's convert / resize, numpy's astype) or of the class list.
    if (callee.kind == Expr::Kind::kAttribute) {
      LoopItem object = Eval(*callee.object, refusal);
      if (*refusal) return LoopItem();
      if (object.kind == LoopItem::Kind::kImage)
        return ImageMethod(object, callee.text, args, expr, refusal);
      if (callee.text == "index" && !enumerated_ && IsListing(classes_) &&
          object.kind == LoopItem::Kind::kListing && object.path == classes_.text &&
          args.size() == 1 && args[0].kind == LoopItem::Kind::kPath &&
          args[0].path == std::string(1, kClassMark)) {
        LoopItem label;
        label.kind = LoopItem::Kind::kLabel;
        return label;
      }
    }
    const Value function = eval_(callee);
    const std::string path = function.is(Value::Kind::kModule) ? Canonical(function.text) : "";
    const auto image_arg = [&]() -> const LoopItem* {
      return !args.empty() && args[0].kind == LoopItem::Kind::kImage ? &args[0] : nullptr;
    };
    const auto constant = [&](const LoopItem& item) {
      return item.kind == LoopItem::Kind::kValue && item.value.is(Value::Kind::kModule)
                 ? LastPart(item.value.text)
             : item.kind == LoopItem::Kind::kValue && item.value.is(Value::Kind::kNumber)
                 ? std::to_string(static_cast<int64_t>(item.value.number))
                 : std::string("?");
    };
    if (path == "os.path.join") {
      std::vector<std::string> parts;
      for (const LoopItem& arg : args) {
        if (arg.kind != LoopItem::Kind::kPath)
          return refuse("joins a path the importer cannot read");
        parts.push_back(arg.path);
      }
      return PathItem(JoinPath(parts));
    }
    if (path == "os.listdir" || path == "builtins.sorted") {
      if (args.size() != 1 || !keywords.empty()) return refuse("is not followed");
      LoopItem item = args[0];
      if (path == "os.listdir" && item.kind == LoopItem::Kind::kPath) {
        item.kind = LoopItem::Kind::kListing;
        item.sorted = false;
        return item;
      }
      if (path == "builtins.sorted" && item.kind == LoopItem::Kind::kListing) {
        item.sorted = true;
        return item;
      }
      return refuse("lists what the importer cannot read as the class folder");
    }
    const std::string file = root_ + "/" + std::string(1, kClassMark) + "/" + kFileMark;
    const bool reads_file =
        !args.empty() && args[0].kind == LoopItem::Kind::kPath && args[0].path == file;
    if (path == "cv2.imread" || path == "PIL.Image.open" || path == "keras.utils.load_img" ||
        path == "keras.preprocessing.image.load_img") {
      if (!reads_file)
        return refuse("does not read a file of the class folder (os.path.join(root, name, file))");
      LoopItem image;
      image.kind = LoopItem::Kind::kImage;
      image.image.line = expr.line;
      if (path == "cv2.imread") {
        image.image.reader = "cv2";
        std::string flag = args.size() > 1 ? constant(args[1]) : "IMREAD_COLOR";
        if (keywords.count("flags") > 0) flag = constant(keywords["flags"]);
        if (flag == "IMREAD_GRAYSCALE" || flag == "0") {
          image.image.color = "grayscale";
        } else if (flag == "IMREAD_COLOR" || flag == "1") {
          image.image.color = "bgr";
        } else {
          return refuse("cv2.imread's flag " + flag +
                        " cannot be carried (cloudbook reads IMREAD_COLOR or IMREAD_GRAYSCALE: "
                        "8-bit, alpha dropped)");
        }
        return image;
      }
      if (path == "PIL.Image.open") {
        if (args.size() != 1 || !keywords.empty()) return refuse("is not followed");
        image.image.reader = "pil";
        image.image.color = "as_is";
        return image;
      }
      image.image.reader = "keras";
      image.image.color = "rgb";
      for (const auto& [keyword, value] : keywords) {
        const std::string text = value.kind == LoopItem::Kind::kPath ? value.path : "";
        if (keyword == "color_mode" && (text == "rgb" || text == "grayscale")) {
          image.image.color = text;
        } else if (keyword == "target_size" && value.value.is(Value::Kind::kNone)) {
          continue;
        } else {
          return refuse("load_img's " + keyword +
                        " cannot be carried (load_img resizes with nearest neighbours, "
                        "cloudbook bilinearly): read the file without target_size and resize "
                        "with cv2.resize(img, (W, H)), or use image_dataset_from_directory");
        }
      }
      if (args.size() != 1) return refuse("give load_img's arguments after the path by name");
      return image;
    }
    if (path == "cv2.resize" && image_arg() != nullptr) {
      LoopItem image = *image_arg();
      if (args.size() != 2) {
        return refuse("cv2.resize is followed as cv2.resize(img, (width, height)) only");
      }
      const Value& dsize = args[1].value;
      if (args[1].kind != LoopItem::Kind::kValue || !dsize.is(Value::Kind::kSequence) ||
          dsize.items.size() != 2 || !dsize.items[0].is(Value::Kind::kNumber) ||
          !dsize.items[1].is(Value::Kind::kNumber) || dsize.items[0].number < 1 ||
          dsize.items[1].number < 1 || dsize.items[0].number > 1e5 || dsize.items[1].number > 1e5) {
        return refuse("the size (width, height) is not known to the importer");
      }
      for (const auto& [keyword, value] : keywords) {
        if (keyword == "interpolation" && constant(value) == "INTER_LINEAR") continue;
        return refuse(keyword == "interpolation"
                          ? "cv2.resize's interpolation " + constant(value) +
                                " cannot be carried: cloudbook resizes bilinearly without "
                                "antialiasing (cv2.INTER_LINEAR, the default)"
                          : "cv2.resize's " + keyword + " is not followed");
      }
      image.image.resize_line = expr.line;
      image.image.size = std::make_pair(static_cast<int64_t>(dsize.items[1].number),
                                        static_cast<int64_t>(dsize.items[0].number));
      return image;
    }
    if (path == "cv2.cvtColor" && image_arg() != nullptr && args.size() == 2) {
      LoopItem image = *image_arg();
      const std::string code = constant(args[1]);
      if (image.image.color == "bgr" && code == "COLOR_BGR2RGB") {
        image.image.color = "rgb";
        return image;
      }
      if ((image.image.color == "bgr" && code == "COLOR_BGR2GRAY") ||
          (image.image.color == "rgb" && code == "COLOR_RGB2GRAY")) {
        image.image.color = "grayscale";
        return image;
      }
      return refuse("the conversion " + code + " of " + image.image.color +
                    " pixels cannot be carried (cloudbook reads rgb or grayscale)");
    }
    if ((path == "numpy.array" || path == "numpy.asarray" || path == "keras.utils.img_to_array" ||
         path == "keras.preprocessing.image.img_to_array") &&
        image_arg() != nullptr && args.size() == 1) {
      return *image_arg();
    }
    if (image_arg() != nullptr) {
      return refuse("changes the pixels in a way the program format cannot express");
    }
    LoopItem item;
    item.value = eval_(expr);
    return item;
  }

  LoopItem ImageMethod(LoopItem image, const std::string& name, const std::vector<LoopItem>& args,
                       const Expr& expr, std::optional<Refusal>* refusal) {
    const auto refuse = [&](const std::string& why) {
      if (!*refusal) *refusal = Refusal{expr.line, "'" + expr.source + "': " + why};
      return LoopItem();
    };
    if (name == "astype") return image;
    if (name == "convert" && image.image.reader == "pil" && args.size() == 1 &&
        args[0].kind == LoopItem::Kind::kPath) {
      if (args[0].path == "L") {
        image.image.color = "grayscale";
        return image;
      }
      if (args[0].path == "RGB") {
        image.image.color = "rgb";
        return image;
      }
      return refuse("PIL mode '" + args[0].path + "' cannot be carried; valid: 'RGB', 'L'");
    }
    if (name == "resize" && image.image.reader == "pil") {
      return refuse(
          "PIL's Image.resize filters with BICUBIC by default (Pillow >= 7; NEAREST before) "
          "and, with every filter but NEAREST, widens its kernel when shrinking "
          "(antialiasing), while cloudbook resizes as tf.image.resize's bilinear without "
          "antialias: the pixels would differ materially. Resize the files beforehand (save "
          "them at that size as PNG) and drop the resize, or read them with "
          "cv2.imread + cv2.resize(img, (W, H)), which resizes as cloudbook does");
    }
    return refuse(
        "changes the pixels in a way the program format cannot express (the loop "
        "may read, convert to 'RGB' / 'L', cv2.resize and divide by a number)");
  }

  std::function<Value(const Expr&)> eval_;
  std::string root_;
  bool enumerated_ = false;
  Value classes_;
  std::map<std::string, LoopItem> names_;
  LoopRead read_;
};

// The names a loop appends to (x.append(...)): forgotten when the loop is refused.
void AppendedNames(const Block& body, std::vector<std::string>* names) {
  for (const Statement& statement : body) {
    if (statement.kind == Statement::Kind::kExpression &&
        statement.value->kind == Expr::Kind::kCall &&
        statement.value->object->kind == Expr::Kind::kAttribute &&
        statement.value->object->text == "append" &&
        statement.value->object->object->kind == Expr::Kind::kName) {
      names->push_back(statement.value->object->object->text);
    }
    AppendedNames(statement.body, names);
  }
}

bool ReadsImagesIn(const Expr& expr, int depth) {
  if (depth > 32) return false;
  if (expr.kind == Expr::Kind::kCall && expr.object->kind == Expr::Kind::kAttribute &&
      (expr.object->text == "imread" || expr.object->text == "load_img" ||
       (expr.object->text == "open" &&
        expr.object->object->source.find("Image") != std::string::npos))) {
    return true;
  }
  if (expr.object && ReadsImagesIn(*expr.object, depth + 1)) return true;
  for (const ExprPtr& item : expr.items) {
    if (item && ReadsImagesIn(*item, depth + 1)) return true;
  }
  for (const Argument& argument : expr.arguments) {
    if (argument.value && ReadsImagesIn(*argument.value, depth + 1)) return true;
  }
  return false;
}

// Whether a loop body reads image files (cv2.imread, Image.open, load_img).
bool ReadsImages(const Block& body) {
  for (const Statement& statement : body) {
    if (statement.value && ReadsImagesIn(*statement.value, 0)) return true;
    if (ReadsImages(statement.body) || ReadsImages(statement.orelse)) return true;
  }
  return false;
}

}  // namespace

// os.listdir(root), sorted(os.listdir(root)) (the class folders) and train_test_split.
std::optional<Result<Value>> Interpreter::CallFolderFunction(const std::string& path,
                                                             const CallArgs& args,
                                                             const Expr& expr) {
  if (path == "os.listdir" && args.positional.size() == 1 &&
      args.positional[0].is(Value::Kind::kString)) {
    Value listing;
    listing.kind = Value::Kind::kFile;
    listing.text = args.positional[0].text;
    while (listing.text.size() > 1 && listing.text.back() == '/') listing.text.pop_back();
    listing.source = "listdir";
    listing.line = expr.line;
    return listing;
  }
  if (path == "builtins.sorted" && args.positional.size() == 1 && args.keywords.empty() &&
      IsListing(args.positional[0])) {
    Value listing = args.positional[0];
    listing.source = "sorted_listdir";
    return listing;
  }
  if (path == "sklearn.model_selection.train_test_split") {
    for (const Value& array : args.positional) {
      if (!array.is(Value::Kind::kArray)) continue;
      return Status::InvalidArgument(
          "'" + expr.source +
          "': sklearn's train_test_split cannot be carried exactly: it takes the first "
          "ceil(test_size*n) rows of RandomState(random_state).permutation(n) as the test set "
          "(StratifiedShuffleSplit with stratify=) and returns both sides in that shuffled "
          "order, while cloudbook's data.test_split draws round(test_size*class size) rows of "
          "each class with its own generator and keeps the folder's order (so other test "
          "images, and another validation_split). Split the folder beforehand into train/ and "
          "test/ folders with the same class sub-folders and read both (this loop or "
          "image_dataset_from_directory), or write data.test_split into the program file "
          "yourself if other test rows are acceptable");
    }
  }
  return std::nullopt;
}

// A for loop over a listing of class folders (os.listdir / sorted(os.listdir)): read as an
// image folder into the lists it appends to; *handled false when it is no such loop.
Status Interpreter::ExecImageFolderLoop(const Statement& statement, bool* handled) {
  *handled = false;
  const Expr& iterable = *statement.value;
  const Expr* classes_expr = &iterable;
  bool enumerated = false;
  if (iterable.kind == Expr::Kind::kCall && iterable.object->kind == Expr::Kind::kName &&
      iterable.object->text == "enumerate" && iterable.arguments.size() == 1 &&
      iterable.arguments[0].keyword.empty()) {
    classes_expr = iterable.arguments[0].value.get();
    enumerated = true;
  }
  // Evaluated only when it cannot draw or change anything: a name, or a listdir call.
  if (classes_expr->kind != Expr::Kind::kName &&
      classes_expr->source.find("listdir") == std::string::npos) {
    return Status::Ok();
  }
  const Value classes = EvalTolerant(*classes_expr);
  if (!IsListing(classes)) return Status::Ok();
  *handled = true;
  const int line = statement.line;
  LoopReader reader([this](const Expr& expr) { return EvalTolerant(expr); }, classes.text);
  reader.SetEnumerated(enumerated);
  std::optional<Refusal> refusal = reader.Outer(statement, classes);
  const LoopRead& read = reader.read();
  std::string root = classes.text;
  while (StartsWith(root, "./")) root = root.substr(2);
  if (!refusal && (root.empty() || root[0] == '/' || root.find("..") != std::string::npos)) {
    refusal = Refusal{classes.line, "the folder '" + classes.text +
                                        "' must be relative to distributed/working_dir, "
                                        "without '..'"};
  }
  for (const std::string* list : {&read.x_list, &read.y_list}) {
    if (refusal || list->empty()) continue;
    const Value before = Lookup(*list, line);
    if (!before.is(Value::Kind::kSequence) || !before.items.empty()) {
      refusal = Refusal{line, "'" + *list + "' is not an empty list before the loop"};
    }
  }
  if (refusal) {
    const std::string why =
        refusal->what + " (in the image-folder loop at line " + std::to_string(line) + ")";
    // A loop that reads images feeds the data: refused here. Any other loop over a folder
    // is skipped like the loops the importer cannot unroll.
    if (Strict() || ReadsImages(statement.body)) {
      // Stops the import even where values are evaluated tolerantly (a loading function).
      if (fatal_.ok()) fatal_ = Error(refusal->line, why);
      return fatal_;
    }
    std::vector<std::string> lists;
    AppendedNames(statement.body, &lists);
    for (const std::string& list : lists) Bind(list, Value::Unknown(why, refusal->line));
    RecordSkipped(statement, "for");
    Note(line, why);
    return Status::Ok();
  }
  const LoopImage& image = read.image;
  auto x = std::make_shared<DataArray>();
  x->format = "images";
  x->path = root;
  x->line = line;
  x->scale = image.scale;
  ImageFolder folder;
  folder.color = image.color == "grayscale" ? "grayscale" : "rgb";
  folder.line = image.line;
  folder.loop = true;
  if (image.size) {
    folder.size = {image.size->first, image.size->second};
    x->sample_shape = folder.size;
    if (folder.color == "rgb") x->sample_shape.push_back(3);
  }
  x->images = folder;
  auto y = std::make_shared<DataArray>(*x);
  y->labels = true;
  y->scale = 1.0;
  y->sample_shape.clear();
  Value x_value;
  x_value.kind = Value::Kind::kArray;
  x_value.array = x;
  Value y_value = x_value;
  y_value.array = y;
  Bind(read.x_list, x_value);
  Bind(read.y_list, y_value);
  // What differs from cloudbook's reader without changing the network, in the summary
  // (once: a function that reads the train and test folders runs the loop twice).
  const auto note = [this](int at, const std::string& what) {
    const std::string text = source_ + ":" + std::to_string(at) + ": " + what;
    if (std::find(summary_notes_.begin(), summary_notes_.end(), text) == summary_notes_.end()) {
      SummaryNote(at, what);
    }
  };
  const std::string where = "the image-folder loop reads '" + root + "': ";
  note(line, where +
                 (classes.source == "sorted_listdir"
                      ? "class ids by sorted sub-folder names, as cloudbook numbers them"
                      : "the loop numbers the classes in os.listdir's order, which is "
                        "the file system's (arbitrary); cloudbook numbers them in sorted "
                        "order of the sub-folder names: the ids are only names, so the "
                        "same network, but an id printed by the original may name "
                        "another class") +
                 (read.files_sorted ? ""
                                    : "; files are read in name order (the loop's "
                                      "os.listdir order is the file system's)"));
  if (image.color == "bgr") {
    note(image.line,
         "cv2.imread gives the channels in B, G, R order, cloudbook in R, G, B: a "
         "network trained from scratch on either is the same network with its first "
         "layer's input channels permuted");
  }
  if (image.reader == "cv2" && image.color != "rgb" && image.color != "bgr") {
    note(image.line,
         "cv2 converts to grayscale with the codec's own conversion, cloudbook with "
         "libpng's weights (0.299, 0.587, 0.114): pixel values may differ by a level");
  }
  if (image.size) {
    note(image.resize_line,
         "cv2.resize (INTER_LINEAR) is bilinear with half-pixel centres and no "
         "antialiasing like cloudbook's tf.image.resize, but rounds to 8 bits with "
         "11-bit weights: pixels differ by at most one level of 255");
  } else {
    note(image.line,
         "the loop does not resize: cloudbook resizes every image to the model's input, "
         "which is the identity for images of that size (the original needs them all "
         "that size)");
  }
  note(line,
       "cloudbook reads files named .png, .jpg, .jpeg (other names are skipped; .bmp, "
       ".gif and unreadable files stop the load, naming the file), the loop every file "
       "its reader decodes: convert .tif / .webp files to PNG" +
           std::string(read.skips_unreadable
                           ? " (the loop's 'if img is None: continue' skips unreadable "
                             "files, where cloudbook stops on them)"
                           : ""));
  return Status::Ok();
}

}  // namespace cloudbook::keras_import
