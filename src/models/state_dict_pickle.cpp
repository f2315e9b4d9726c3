#include "models/state_dict_pickle.hpp"

#include <fmt/format.h>

#include <cstring>
#include <memory>
#include <unordered_map>

#include "core/errors.hpp"

namespace distsgd::models {
namespace {

// Far above what a state dict needs (a ResNet-50's pickle peaks at a few dozen
// values), far below what would exhaust memory.
constexpr std::size_t kMaxStack = 1u << 20;
constexpr std::size_t kMaxDims = 64;

struct Value;
using Ref = std::shared_ptr<Value>;
struct Value {
  enum class Kind {
    none,
    boolean,
    integer,
    real,
    text,
    tuple,
    list,
    dict,
    global,
    storage,
    tensor
  };
  Kind kind = Kind::none;
  int64_t integer = 0;
  std::string text;        // string; global: "module.name"
  std::vector<Ref> items;  // tuple, list; dict: key, value, key, value, ...
  TensorRecord tensor;     // storage: key, type and numel; tensor: all of it
};

const char* kind_name(Value::Kind kind) {
  static constexpr const char* names[] = {"None", "bool", "int",    "float",   "str",   "tuple",
                                          "list", "dict", "global", "storage", "tensor"};
  return names[static_cast<int>(kind)];
}

struct StorageClass {
  const char* name;
  StorageType type;
  int64_t bytes;
};
// clang-format off
constexpr StorageClass kStorages[] = {
    {"torch.FloatStorage", StorageType::float32, 4}, {"torch.DoubleStorage", StorageType::float64, 8},
    {"torch.HalfStorage", StorageType::float16, 2},  {"torch.BFloat16Storage", StorageType::bfloat16, 2},
    {"torch.LongStorage", StorageType::int64, 8},    {"torch.IntStorage", StorageType::int32, 4},
    {"torch.ShortStorage", StorageType::int16, 2},   {"torch.CharStorage", StorageType::int8, 1},
    {"torch.ByteStorage", StorageType::uint8, 1},    {"torch.BoolStorage", StorageType::boolean, 1},
};
// clang-format on

// The pickle machine, restricted to the opcodes and globals of a state dict.
class Machine {
 public:
  Machine(std::string_view bytes, const std::string& what) : bytes_(bytes), what_(what) {}
  // Values may refer to each other in cycles (through the memo): drop every
  // reference by hand, so no destructor recurses or leaks.
  ~Machine() {
    for (auto& value : all_) value->items.clear();
  }
  Ref run();

 private:
  [[noreturn]] void fail(const std::string& message) const {
    throw DataError(
        fmt::format("{}: bad state dict pickle (data.pkl, byte {}): {}", what_, op_at_, message));
  }
  std::string_view take(uint64_t count) {
    if (count > bytes_.size() - at_)
      fail(fmt::format("truncated: needs {} more bytes, {} left", count, bytes_.size() - at_));
    const auto piece = bytes_.substr(at_, count);
    at_ += count;
    return piece;
  }
  uint64_t little(int count) {
    const auto piece = take(count);
    uint64_t value = 0;
    for (int i = count; i-- > 0;) value = (value << 8) | static_cast<unsigned char>(piece[i]);
    return value;
  }
  std::string line() {
    const auto end = bytes_.find('\n', at_);
    if (end == std::string_view::npos) fail("truncated: a GLOBAL name has no end");
    std::string text(bytes_.substr(at_, end - at_));
    at_ = end + 1;
    return text;
  }
  Ref make(Value::Kind kind, int64_t integer = 0, std::string text = {},
           std::vector<Ref> items = {}) {
    auto value = std::make_shared<Value>();
    *value = {kind, integer, std::move(text), std::move(items), {}};
    all_.push_back(value);
    return value;
  }
  void push(Ref value) {
    if (stack_.size() >= kMaxStack) fail("more than a million values on the stack");
    stack_.push_back(std::move(value));
  }
  std::size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  Ref pop() {
    if (stack_.size() <= floor()) fail("pops an empty stack");
    auto value = std::move(stack_.back());
    stack_.pop_back();
    return value;
  }
  Ref& top() {
    if (stack_.size() <= floor()) fail("reads an empty stack");
    return stack_.back();
  }
  std::vector<Ref> pop_mark() {
    if (marks_.empty()) fail("no MARK to pop to");
    std::vector<Ref> items(stack_.begin() + static_cast<std::ptrdiff_t>(marks_.back()),
                           stack_.end());
    stack_.resize(marks_.back());
    marks_.pop_back();
    return items;
  }
  Ref& container(Value::Kind kind, const char* op) {
    auto& target = top();
    if (target->kind != kind)
      fail(fmt::format("{} on a {}, not a {}", op, kind_name(target->kind), kind_name(kind)));
    return target;
  }
  Ref memo_get(uint64_t index) {
    const auto found = memo_.find(index);
    if (found == memo_.end()) fail(fmt::format("memo entry {} was never stored", index));
    return found->second;
  }
  int64_t integer_of(const Ref& value, const char* what) const {
    if (value->kind != Value::Kind::integer)
      fail(fmt::format("{} is a {}, not an int", what, kind_name(value->kind)));
    return value->integer;
  }
  std::vector<int64_t> dims_of(const Ref& value, const char* what) const {
    if (value->kind != Value::Kind::tuple)
      fail(fmt::format("{} is a {}, not a tuple", what, kind_name(value->kind)));
    if (value->items.size() > kMaxDims)
      fail(fmt::format("{} has over {} dimensions", what, kMaxDims));
    std::vector<int64_t> dims;
    for (const auto& item : value->items) {
      dims.push_back(integer_of(item, what));
      if (dims.back() < 0) fail(fmt::format("{} has a negative entry", what));
    }
    return dims;
  }
  void step(uint8_t op);
  Ref persistent(const Ref& pid);
  Ref reduce(const Ref& callable, const Ref& args);
  Ref rebuild_tensor(const std::vector<Ref>& args);

  std::string_view bytes_;
  const std::string& what_;
  std::size_t at_ = 0, op_at_ = 0;
  bool stopped_ = false;
  std::vector<Ref> stack_, all_;
  std::vector<std::size_t> marks_;
  std::unordered_map<uint64_t, Ref> memo_;
};

Ref Machine::run() {
  while (!stopped_) {
    op_at_ = at_;
    step(static_cast<uint8_t>(take(1)[0]));
  }
  auto result = pop();
  if (!stack_.empty() || !marks_.empty()) fail("values left on the stack at STOP");
  return result;
}

void Machine::step(uint8_t op) {
  using K = Value::Kind;
  // One line per opcode where it fits: a table.
  // clang-format off
  switch (op) {
    case 0x80: if (little(1) > 5) fail("pickle protocol above 5"); break;  // PROTO
    case 0x95: little(8); break;                                           // FRAME
    case '.': stopped_ = true; break;                                      // STOP
    case '(':                                                              // MARK
      if (marks_.size() >= kMaxStack) fail("too many MARKs");
      marks_.push_back(stack_.size());
      break;
    case '}': push(make(K::dict)); break;
    case ']': push(make(K::list)); break;
    case ')': push(make(K::tuple)); break;
    case 't': push(make(K::tuple, 0, {}, pop_mark())); break;
    case 'l': push(make(K::list, 0, {}, pop_mark())); break;
    case 0x85: case 0x86: case 0x87: {  // TUPLE1..3
      std::vector<Ref> items(op - 0x84);
      for (auto it = items.rbegin(); it != items.rend(); ++it) *it = pop();
      push(make(K::tuple, 0, {}, std::move(items)));
      break;
    }
    case 'q': memo_[little(1)] = top(); break;           // BINPUT
    case 'r': memo_[little(4)] = top(); break;           // LONG_BINPUT
    case 0x94: memo_[memo_.size()] = top(); break;       // MEMOIZE
    case 'h': push(memo_get(little(1))); break;          // BINGET
    case 'j': push(memo_get(little(4))); break;          // LONG_BINGET
    case '2': push(top()); break;                        // DUP
    case '0': pop(); break;                              // POP
    case '1': pop_mark(); break;                         // POP_MARK
    case 'c': {                                          // GLOBAL
      auto module = line();
      push(make(K::global, 0, module + "." + line()));
      break;
    }
    case 0x93: {  // STACK_GLOBAL
      const auto name = pop(), module = pop();
      if (name->kind != K::text || module->kind != K::text) fail("STACK_GLOBAL of non-strings");
      push(make(K::global, 0, module->text + "." + name->text));
      break;
    }
    case 'X': case 'T': push(make(K::text, 0, std::string(take(little(4))))); break;
    case 0x8c: case 'U': push(make(K::text, 0, std::string(take(little(1))))); break;
    case 0x8d: push(make(K::text, 0, std::string(take(little(8))))); break;
    case 'J': push(make(K::integer, static_cast<int32_t>(little(4)))); break;  // BININT
    case 'K': push(make(K::integer, static_cast<int64_t>(little(1)))); break;  // BININT1
    case 'M': push(make(K::integer, static_cast<int64_t>(little(2)))); break;  // BININT2
    case 0x8a: {                                                       // LONG1
      const auto count = static_cast<int>(little(1));
      if (count > 8) fail("an integer of more than 64 bits");
      uint64_t value = count ? little(count) : 0;
      if (count > 0 && count < 8 && (value >> (8 * count - 1)) & 1) value |= ~uint64_t{0} << (8 * count);
      push(make(K::integer, static_cast<int64_t>(value)));
      break;
    }
    case 'G': take(8); push(make(K::real)); break;  // BINFLOAT (no value a state dict needs)
    case 0x88: case 0x89: push(make(K::boolean, op == 0x88)); break;  // NEWTRUE, NEWFALSE
    case 'N': push(make(K::none)); break;
    case 'Q': { auto pid = pop(); push(persistent(pid)); break; }  // BINPERSID
    case 'R': {                                                     // REDUCE
      auto args = pop();
      auto callable = pop();
      push(reduce(callable, args));
      break;
    }
    case 'b': {  // BUILD: the state of an OrderedDict (its _metadata) or a tensor: not needed
      pop();
      if (top()->kind != K::dict && top()->kind != K::tensor)
        fail(fmt::format("BUILD on a {}", kind_name(top()->kind)));
      break;
    }
    case 's': {  // SETITEM
      auto value = pop(), key = pop();
      auto& dict = container(K::dict, "SETITEM");
      dict->items.push_back(std::move(key));
      dict->items.push_back(std::move(value));
      break;
    }
    case 'u': {  // SETITEMS
      auto items = pop_mark();
      if (items.size() % 2 != 0) fail("SETITEMS with an odd number of values");
      auto& dict = container(K::dict, "SETITEMS");
      dict->items.insert(dict->items.end(), items.begin(), items.end());
      break;
    }
    case 'a': { auto value = pop(); container(K::list, "APPEND")->items.push_back(value); break; }
    case 'e': {  // APPENDS
      auto items = pop_mark();
      auto& list = container(K::list, "APPENDS");
      list->items.insert(list->items.end(), items.begin(), items.end());
      break;
    }
    default:
      fail(fmt::format("opcode 0x{:02x} is outside what torch.save writes for a state dict", op));
  }
  // clang-format on
}

// ('storage', torch.FloatStorage, key, location, numel): a storage of the
// archive. The location (cpu, cuda:0) does not matter: it is read to the CPU.
Ref Machine::persistent(const Ref& pid) {
  using K = Value::Kind;
  const auto& f = pid->items;
  if (pid->kind != K::tuple || f.size() != 5 || f[0]->kind != K::text || f[0]->text != "storage")
    fail("a persistent id that is not ('storage', type, key, location, size)");
  if (f[1]->kind != K::global || f[2]->kind != K::text)
    fail("a storage whose type is not a class or whose key is not a string");
  auto storage = make(K::storage);
  bool known = false;
  for (const auto& candidate : kStorages)
    if (f[1]->text == candidate.name) {
      storage->tensor.type = candidate.type;
      known = true;
    }
  if (!known) fail("storage type " + f[1]->text + " is not one distsgd reads");
  storage->tensor.storage_key = f[2]->text;
  storage->tensor.storage_numel = integer_of(f[4], "a storage's size");
  if (storage->tensor.storage_numel < 0) fail("a storage of negative size");
  return storage;
}

Ref Machine::reduce(const Ref& callable, const Ref& args) {
  using K = Value::Kind;
  if (callable->kind != K::global)
    fail(fmt::format("REDUCE calls a {}", kind_name(callable->kind)));
  if (args->kind != K::tuple) fail("REDUCE's arguments are not a tuple");
  const auto& name = callable->text;
  const auto& a = args->items;
  if (name == "collections.OrderedDict") {
    if (!a.empty()) fail("OrderedDict built from arguments");
    return make(K::dict);
  }
  if (name == "torch._utils._rebuild_tensor_v2" || name == "torch._utils._rebuild_tensor")
    return rebuild_tensor(a);
  if (name == "torch._utils._rebuild_parameter" || name == "torch.jit._pickle.restore_type_tag") {
    if (a.empty()) fail(name + " without arguments");
    return a.front();  // the tensor (a Parameter is one), the tagged value
  }
  fail("it calls " + name + ", which a state dict of tensors does not");
}

// _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata])
Ref Machine::rebuild_tensor(const std::vector<Ref>& a) {
  if (a.size() < 4) fail("_rebuild_tensor with fewer than 4 arguments");
  if (a[0]->kind != Value::Kind::storage) fail("_rebuild_tensor of something not a storage");
  auto tensor = make(Value::Kind::tensor);
  auto& t = tensor->tensor;
  t = a[0]->tensor;
  t.offset = integer_of(a[1], "a tensor's storage offset");
  t.sizes = dims_of(a[2], "a tensor's size");
  t.strides = dims_of(a[3], "a tensor's stride");
  if (t.offset < 0) fail("a negative storage offset");
  if (t.sizes.size() != t.strides.size()) fail("a tensor's size and stride differ in length");
  // The last element it reads, offset + sum((size - 1) * stride), must be in the storage.
  int64_t last = t.offset;
  bool empty = false;
  for (std::size_t d = 0; d < t.sizes.size(); ++d) {
    int64_t span = 0;
    if (t.sizes[d] == 0) empty = true;
    if (t.sizes[d] > 0 && (__builtin_mul_overflow(t.sizes[d] - 1, t.strides[d], &span) ||
                           __builtin_add_overflow(last, span, &last)))
      fail("a tensor larger than any storage");
  }
  if (!empty && last >= t.storage_numel)
    fail(fmt::format("a tensor reads element {} of a storage of {}", last, t.storage_numel));
  return tensor;
}

}  // namespace

int64_t element_size(StorageType type) {
  for (const auto& candidate : kStorages)
    if (candidate.type == type) return candidate.bytes;
  return 1;
}

const char* storage_name(StorageType type) {
  for (const auto& candidate : kStorages)
    if (candidate.type == type) return candidate.name;
  return "?";
}

std::vector<TensorRecord> parse_state_dict_pickle(std::string_view bytes, const std::string& what) {
  Machine machine(bytes, what);
  const auto result = machine.run();
  if (result->kind != Value::Kind::dict)
    throw DataError(
        fmt::format("{}: holds a {}, not a state dict (a dict of tensors: "
                    "torch.save(model.state_dict(), FILE))",
                    what, kind_name(result->kind)));
  std::vector<TensorRecord> records;
  for (std::size_t i = 0; i + 1 < result->items.size(); i += 2) {
    const auto& key = result->items[i];
    const auto& value = result->items[i + 1];
    if (key->kind != Value::Kind::text)
      throw DataError(
          fmt::format("{}: the state dict has a {} key, not a name", what, kind_name(key->kind)));
    if (value->kind != Value::Kind::tensor)
      throw DataError(
          fmt::format("{}: '{}' is a {}, not a tensor: not a state dict (save "
                      "model.state_dict(), not a checkpoint holding one)",
                      what, key->text, kind_name(value->kind)));
    records.push_back(value->tensor);
    records.back().name = key->text;
  }
  return records;
}

}  // namespace distsgd::models
