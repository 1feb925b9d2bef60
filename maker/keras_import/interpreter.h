// Internal to keras_interpreter.h: the symbolic interpreter's state and its parts. One class,
// its members defined by concern in interpreter_*.cc (statements and variables, the special
// names, expressions and calls, Keras model building, compile / fit / predict, data sources,
// the final Program and its checks). Single-threaded; one object per import.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "maker/keras_import/keras_interpreter.h"
#include "maker/keras_import/keras_layers.h"
#include "maker/keras_import/keras_value.h"
#include "maker/keras_import/python_syntax.h"
#include "maker/keras_import/skynnet_markers.h"
#include "shared/program.h"
#include "shared/spelling.h"
#include "shared/status.h"

namespace cloudbook::keras_import {

// "tensorflow.keras.layers.Dense" and "tf_keras.layers.Dense" are "keras.layers.Dense".
std::string Canonical(const std::string& path);
// "keras.layers.Dense" -> "Dense".
std::string LastPart(const std::string& path);
bool StartsWith(const std::string& text, const std::string& prefix);
// "(28, 28)", "(784,)".
std::string ShapeText(const std::vector<int64_t>& shape);
// The number of values in a shape; INT64_MAX when that overflows (hostile sizes).
int64_t Product(const std::vector<int64_t>& shape);

struct TaggedVar {
  int64_t value = 0;
  int line = 0;
};

// The locals of one call of a program function.
struct Frame {
  std::map<std::string, Value> locals;
  std::set<std::string> global_names;
};

class Interpreter {
 public:
  Interpreter(const SkynnetBlock& block, const std::string& source, const std::string& name)
      : block_(block), source_(source), name_(name) {}

  // Runs the module (and main() when nothing called it), then assembles the Program.
  Result<InterpretedProgram> Run(const Block& module);

 private:
  // ---- statement execution and the symbolic environment (interpreter_statements.cc) ----
  Status Error(int line, const std::string& what) const;
  void Warn(int line, const std::string& what);
  void Note(int line, const std::string& what);
  // Gives a message without a place the file and line of `line`.
  Status AtLine(const Status& status, int line) const;
  void Bind(const std::string& name, Value value);
  Value Lookup(const std::string& name, int line) const;
  Status ExecBlock(const Block& statements);
  Status Exec(const Statement& statement);
  void RecordSkipped(const Statement& statement, const std::string& keyword);
  // Whether a statement of the block lies in this statement's lines.
  bool ContainsBlock(const Statement& statement) const;
  Status ExecInContext(const Statement& statement);
  Status ExecIf(const Statement& statement);

  // ---- control flow and statements after fit (interpreter_control.cc) ----
  // Whether a value is true: nullopt when it is not known (or not a plain value).
  static std::optional<bool> Truth(const Value& value);
  Result<Value> Compare(const Expr& expr);
  Result<Value> BooleanOperator(const Expr& expr);
  Result<Value> IfElseValue(const Expr& expr);
  // range(...), enumerate(...), zip(...) of known values; else kUnknown with the reason.
  Value Iteration(const std::string& builtin, const CallArgs& args, const Expr& expr);
  // The branch a constant condition takes (folded; the other is not read).
  Status FoldIf(const Statement& statement, bool taken);
  // A for loop over a constant range or list, unrolled; a non-constant one refused where strict.
  Status ExecFor(const Statement& statement);
  // A statement after the block's fit: run when it only evaluates, predicts, prints or saves
  // (skipped with a summary note), refused when it could change the training.
  Status ExecAfterFit(const Statement& statement, bool in_block);
  // The first construct in `statement` (its line and text) that would change the training
  // after fit: fit/compile/add on a model, a tagged variable assigned; nullopt when none.
  std::optional<std::pair<int, std::string>> TrainingChange(const Statement& statement, int depth);
  std::optional<std::pair<int, std::string>> TrainingChangeIn(const Expr& expr, int depth);
  void SummaryNote(int line, const std::string& what);

  // ---- classes: layers.Layer subclasses inlined into the network (interpreter_classes.cc) ----
  Status ExecClass(const Statement& statement);
  // MyLayer(...): an instance, its __init__ run.
  Result<Value> Instantiate(const Value& class_value, const CallArgs& args, const Expr& expr);
  // layer_object(x): its call run on the tensor (the layers it wires join the graph), or one
  // of the keras.io classes recognised as its program-format word.
  Result<Value> CallInstance(const Value& instance, const CallArgs& args, const Expr& expr);
  // A method of the class (self first), e.g. self.helper(x) inside call.
  Result<Value> CallInstanceMethod(const Value& instance, const std::string& name,
                                   const CallArgs& args, const Expr& expr);
  // keras.io's TokenAndPositionEmbedding, Patches and PatchEncoder from the instance's
  // sub-layers and its call's text; an error naming the class when it is none of them.
  Result<Value> RecognizeLayerClass(const InstanceState& instance, const TensorNode& input,
                                    int first, const Value& failed, const Expr& expr);
  Status ExecAssign(const Statement& statement);
  Status AssignTarget(const Expr& target, const Value& value, int line);
  Status ExecExpression(const Statement& statement);
  bool Strict() const { return strict_depth_ > 0; }  // inside the SKYNNET block
  // "inside the SKYNNET block", or "in a function the SKYNNET block calls" for a strict
  // statement written outside it.
  std::string InBlockText(int line) const;

  // ---- the special names: tagged variables and _DATA_ variables (interpreter_names.cc) ----
  static bool IsLiteralNumber(const Expr& expr);
  // Tagged variables get their value recorded (and a tag on the number); misspelt ones a
  // warning saying what sk_tool would have done.
  Status CheckSpecialName(const std::string& name, const Expr& rhs, Value* value, int line);

  // ---- expressions and calls (interpreter_expressions.cc) ----
  Value EvalTolerant(const Expr& expr);
  Result<Value> Eval(const Expr& expr);
  Result<Value> ParseNumber(const Expr& expr);
  Result<Value> Attribute(const Value& object, const Expr& expr);
  Result<Value> EvalSubscript(const Expr& expr);
  Result<Value> Binary(const Expr& expr, const Value& left, const Value& right);
  Result<CallArgs> EvalArguments(const Expr& call);
  Result<Value> EvalCall(const Expr& expr);
  Result<Value> EvalCallHere(const Expr& expr);
  Result<Value> CallFunction(const Value& function, const std::vector<Value>& arguments, int line,
                             const std::vector<std::pair<std::string, Value>>& keywords = {});
  Result<Value> CallModule(const std::string& path, const CallArgs& args, const Expr& expr);

  // ---- Keras model building (interpreter_models.cc) ----
  Result<Value> CallKeras(const std::string& path, const CallArgs& args, const Expr& expr);
  static Value LayerValue(LayerObject layer);
  // Activation('relu') / ReLU(...): the activation word (checked against the list).
  Result<std::string> ActivationWord(const std::string& class_name, const CallArgs& args,
                                     const Expr& expr);
  // Appends a layer; Activation('x') folds into the layer before it.
  Status AppendLayer(std::vector<LayerSpec>* layers, const LayerObject& layer);

  // ---- the functional graph (interpreter_graph.cc) ----
  // layer(x), Add()([a, b]), MultiHeadAttention(...)(q, v[, k]): a node of the graph.
  Result<Value> ApplyLayer(const std::shared_ptr<const LayerObject>& layer, const CallArgs& args,
                           const Expr& expr);
  // A Sequential model applied to a tensor: its layers one after another.
  Result<Value> ApplyModel(const ModelState& model, const CallArgs& args, const Expr& expr);
  // a + b of two tensors: an add node.
  Result<Value> AddTensors(const Value& left, const Value& right, const Expr& expr);
  Result<Value> AppendNode(const std::vector<TensorNode>& inputs, LayerSpec spec, const Expr& expr);
  // The layers that compute `output`, in order, with name / inputs where they do not read
  // the layer just above.
  Result<std::vector<LayerSpec>> Linearize(const TensorNode& output, const Expr& expr);
  Status AddToSequential(ModelState* model, const Value& item, const std::string& where);
  Result<Value> MakeSequential(const CallArgs& args, const Expr& expr);
  Result<Value> MakeFunctional(const CallArgs& args, const Expr& expr);

  // ---- compile, fit and predict (interpreter_training.cc) ----
  // model.add / compile / fit / predict / summary / evaluate; array.astype / reshape.
  Result<Value> CallMethod(const Value& object, const std::string& name, const CallArgs& args,
                           const Expr& expr);
  Result<Value> MakeOptimizer(const std::string& name, const CallArgs& args, const Expr& expr);
  Result<Value> Compile(ModelState* model, const CallArgs& args, const Expr& expr);
  Result<std::string> LossName(const Value& value, const Expr& expr);
  Result<Value> Fit(ModelState* model, const Value& model_value, const CallArgs& args,
                    const Expr& expr);

  // ---- data loading and data sources (interpreter_data.cc) ----
  Result<Value> LoadIdxFile(const Value& from, const Expr& expr);
  Result<Value> ExpandDims(const CallArgs& args, const Expr& expr);
  Result<Value> LoadKerasDataset(const std::string& dataset, const CallArgs& args,
                                 const Expr& expr);
  Result<Value> CallArrayMethod(const Value& object, const std::string& name, const CallArgs& args,
                                const Expr& expr);
  void AddDataFile(const Value& value, const std::string& role);
  static bool SameArray(const Value& a, const Value& b);

  // ---- data idioms: label maps, rows, shuffles, npy, imdb, image folders
  //      (interpreter_data_idioms.cc) ----
  Result<Value> LabelElementwise(const Expr& expr, const std::string& op, const Value& left,
                                 const Value& right);
  Result<Value> LabelWhere(const CallArgs& args, const Expr& expr);
  Result<Value> SubscriptData(const Value& object, const Expr& index, const Expr& expr);
  Result<Value> DrawRows(const Expr& expr, int64_t count);
  Result<Value> CallDataFunction(const std::string& path, const CallArgs& args, const Expr& expr,
                                 bool* handled);
  Result<Value> PadSequences(const CallArgs& args, const Expr& expr);
  Result<Value> LoadImdb(const CallArgs& args, const Expr& expr);
  Result<Value> ImageFolderDataset(const CallArgs& args, const Expr& expr);

  // ---- tensorflow_datasets: tfds.load of mnist / fashion_mnist as their IDX files, the
  //      tf.data methods on it, tf.cast (interpreter_tfds.cc) ----
  // tfds.load / tfds.as_numpy / tf.cast / tf.image.convert_image_dtype; nullopt: none of them.
  // An error (another data set, arguments that cannot be carried) stops the import.
  std::optional<Result<Value>> CallTfdsFunction(const std::string& path, const CallArgs& args,
                                                const Expr& expr);
  // ds.map(fn) / batch / shuffle / cache / prefetch; any other method gives an unknown value
  // naming it (refused with its line where fit / evaluate receive it).
  Result<Value> CallDatasetMethod(const Value& dataset, const std::string& name,
                                  const CallArgs& args, const Expr& expr);
  // fn(image, label) of ds.map(fn): a def or a lambda, run on the data set's arrays.
  Result<Value> MapDataset(const Value& dataset, const CallArgs& args, const Expr& expr);
  // fit(ds[, validation_data=ds2]): given's x / y / validation_data become the data sets'
  // arrays and model->batch_size the .batch(n); an error when fit cannot take the data set.
  Status FitDataset(std::map<std::string, Value>* given, ModelState* model, const Expr& expr);
  // A data set's arrays (evaluate(ds), predict(ds)); false when `value` is not a data set.
  static bool DatasetPair(const Value& value, Value* x, Value* y);

  // ---- image folders read by a Python loop (interpreter_image_loops.cc) ----
  // os.listdir / sorted(os.listdir) of a folder, train_test_split; nullopt: none of them.
  std::optional<Result<Value>> CallFolderFunction(const std::string& path, const CallArgs& args,
                                                  const Expr& expr);
  // A for loop over the class folders of a listing: an images source; *handled false if not.
  Status ExecImageFolderLoop(const Statement& statement, bool* handled);
  // A loop's images given to fit / evaluate: y must be the class ids the same loop read.
  Status CheckLoopLabels(const Value& x, const Value& y, const std::string& what, int line);
  // Whether the model's input is the images' size and channels (a loop's gray images may be
  // reshaped to [H, W, 1]; one without a resize takes the model's size).
  static bool ImageInputFits(const DataArray& images, const std::vector<int64_t>& input);

  // ---- the data section from fit, predict and evaluate (interpreter_data_section.cc) ----
  Result<ImportedSource> ImportSource(const Value& value, const std::string& what, int line);
  // One split from its x and y (y may be kNone for an image folder): rows checked alike.
  Result<ImportedSplit> ImportSplit(const Value& x, const Value& y, const std::string& what,
                                    int line, const std::string& x_what = "",
                                    const std::string& y_what = "");
  Status AssembleData(const ModelState& model, ImportedData* data, bool* autoencoder);

  // ---- the Program and its checks (interpreter_program.cc) ----
  Result<InterpretedProgram> Assemble();
  Status CheckOutput(const ModelState& model);
  Status FoldRescaling(std::vector<LayerSpec>* layers, ImportedData* data);
  Status CheckLoss(const ModelState& model);

  const SkynnetBlock& block_;
  const std::string& source_;
  const std::string& name_;
  std::map<std::string, Value> globals_;
  std::vector<Frame> frames_;
  std::map<std::string, std::pair<int, std::string>> skipped_;
  std::vector<std::string> star_modules_;
  std::set<std::string> called_;
  int strict_depth_ = 0;
  bool block_ran_ = false;
  bool returning_ = false;
  bool breaking_ = false;            // a break ran: the innermost unrolled loop stops
  bool continuing_ = false;          // a continue ran: the rest of the iteration is skipped
  bool after_fit_in_block_ = false;  // running a block statement after fit (tolerantly)
  int loop_steps_ = 0;               // iterations unrolled so far (bounded)
  int predict_calls_ = 0;
  int change_scans_ = 0;  // expressions TrainingChange looked at (bounded: hostile programs)
  std::optional<int64_t> numpy_seed_;  // np.random.seed(s) / keras.utils.set_random_seed(s)
  int numpy_seed_line_ = 0;
  int numpy_draws_ = 0;     // draws from numpy's generator since the seed
  std::string imdb_flags_;  // imdb.load_data's options as scripts/imdb_to_sequences.py flags
  std::vector<std::string> summary_notes_;
  // An error found where values are evaluated tolerantly that must stop the import anyway
  // (tensorflow_datasets): Exec returns it after the statement.
  Status fatal_ = Status::Ok();
  Value return_value_;
  int next_input_id_ = 0;
  int calls_ = 0;  // calls of the program's functions so far (bounded)
  std::shared_ptr<ModelState> fit_model_;
  std::map<std::string, TaggedVar> vars_;
  std::set<std::string> warned_names_;
  std::map<std::string, int> data_lines_;
  std::map<std::string, Value> data_values_;  // the _DATA_ variables as last assigned
  std::vector<std::string> warnings_;
  std::vector<std::string> notes_;
  std::vector<DataFile> data_files_;
  std::set<std::shared_ptr<const LayerObject>> applied_layers_;  // applied (once each)
  int next_layer_id_ = 0;                 // Normalization layers, for their adapt(x)
  std::map<std::string, Value> adapted_;  // Normalization id -> the data adapt() received
};

}  // namespace cloudbook::keras_import
