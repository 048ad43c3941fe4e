// oximl.hpp: a header-only C++17 wrapper of the oximl C API (include/oximl.h), with RAII handles and exceptions.
//
//   oximl::Sequential model(4, /*seed=*/42);
//   model.add(R"({"type": "dense", "units": 3, "activation": {"name": "softmax"}})");
//   std::vector<float> p = model.predict(oximl::Matrix(x, 4));
//
// Every failing call throws oximl::Error (the C status and the library's message). Handles are move-only and freed
// by their destructor. Thread-safety is the C API's: const member functions may run concurrently on one object.
#ifndef OXIML_HPP
#define OXIML_HPP

#include <oximl.h>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace oximl {

/// A failed call: the C status and the message of oximl_last_error() (or of the wrapper's own check).
class Error : public std::runtime_error {
 public:
  Error(oximl_status status, const std::string &message) : std::runtime_error(message), status_(status) {}
  oximl_status status() const noexcept { return status_; }

 private:
  oximl_status status_;
};

namespace detail {
/// Throws the library's error for a non-OK status.
inline void check(oximl_status status) {
  if (status != OXIML_STATUS_OK) throw Error(status, oximl_last_error());
}
}  // namespace detail

/// Owns one C handle and releases it with `Free` (which accepts NULL): move-only, like std::unique_ptr.
/// A new handle kind is one alias: `using Recommender = Handle<oximl_recommender, oximl_recommender_free>`.
template <typename T, void (*Free)(T *)>
class Handle {
 public:
  Handle() noexcept = default;
  explicit Handle(T *raw) noexcept : raw_(raw) {}
  Handle(Handle &&other) noexcept : raw_(std::exchange(other.raw_, nullptr)) {}
  Handle &operator=(Handle &&other) noexcept {
    if (this != &other) {
      Free(raw_);
      raw_ = std::exchange(other.raw_, nullptr);
    }
    return *this;
  }
  Handle(const Handle &) = delete;
  Handle &operator=(const Handle &) = delete;
  ~Handle() { Free(raw_); }

  T *get() const noexcept { return raw_; }
  explicit operator bool() const noexcept { return raw_ != nullptr; }

 private:
  T *raw_ = nullptr;
};

/// A string returned by the library, copied into a std::string and freed.
inline std::string take_string(char *raw) {
  Handle<char, oximl_string_free> owned(raw);
  return raw ? std::string(raw) : std::string();
}

/// The library's version, e.g. "0.1.0".
inline std::string version() { return oximl_version(); }

/// Sets the size of oximl's thread pool (0 = one thread per physical core).
inline void set_num_threads(std::size_t threads) { detail::check(oximl_set_num_threads(threads)); }

/// A non-owning row-major `rows × cols` view of floats (what the C API takes as `data, rows, cols`).
class Matrix {
 public:
  Matrix(const float *data, std::size_t rows, std::size_t cols) noexcept : data_(data), rows_(rows), cols_(cols) {}
  /// The rows of `values`, `cols` floats each; its size must be a multiple of `cols`.
  Matrix(const std::vector<float> &values, std::size_t cols)
      : data_(values.data()), rows_(cols ? values.size() / cols : 0), cols_(cols) {
    if (cols == 0 || values.size() % cols != 0)
      throw Error(OXIML_STATUS_SHAPE, std::to_string(values.size()) + " values do not make rows of " +
                                          std::to_string(cols) + " columns");
  }
  const float *data() const noexcept { return data_; }
  std::size_t rows() const noexcept { return rows_; }
  std::size_t cols() const noexcept { return cols_; }

 private:
  const float *data_;
  std::size_t rows_, cols_;
};

/// One epoch's values as passed to a training callback: `loss`, the metrics, then the `val_` ones.
struct EpochLog {
  std::size_t epoch = 0;
  std::vector<std::pair<std::string, double>> values;

  /// The value called `name`; throws Error (invalid argument) if there is none.
  double at(const std::string &name) const {
    for (const auto &v : values)
      if (v.first == name) return v.second;
    throw Error(OXIML_STATUS_INVALID_ARGUMENT, "no value named " + name + " in the epoch log");
  }
};

/// Called after each epoch; returning true stops training. An exception it throws stops training and is rethrown
/// by fit (it never crosses the C boundary).
using EpochCallback = std::function<bool(const EpochLog &)>;

/// A dense network (oximl_sequential). Configuration is the C API's JSON (see include/oximl.h).
class Sequential {
 public:
  /// An empty model for inputs of `input_dim` features, its initial weights drawn with `seed`.
  explicit Sequential(std::size_t input_dim, std::uint64_t seed = 0) {
    oximl_sequential *raw = nullptr;
    detail::check(oximl_sequential_new(input_dim, seed, &raw));
    handle_ = Handle<oximl_sequential, oximl_sequential_free>(raw);
  }

  /// Loads a model saved from Rust, C, C++ or Python.
  static Sequential load(const std::string &path) {
    oximl_sequential *raw = nullptr;
    detail::check(oximl_sequential_load(path.c_str(), &raw));
    return Sequential(raw);
  }

  /// Appends a layer given as JSON, e.g. `{"type": "dense", "units": 64, "activation": {"name": "relu"}}`.
  Sequential &add(const std::string &layer_json) {
    detail::check(oximl_sequential_add(handle_.get(), layer_json.c_str()));
    return *this;
  }

  /// Fixes optimizer, loss and metrics from JSON.
  void compile(const std::string &config_json) {
    detail::check(oximl_sequential_compile(handle_.get(), config_json.c_str()));
  }

  /// Trains on `x` and targets `y` (as many rows); `options_json` e.g. `{"epochs": 20, "batch_size": 32}`.
  void fit(const Matrix &x, const Matrix &y, const std::string &options_json = "{}",
           const EpochCallback &callback = nullptr) {
    if (x.rows() != y.rows())
      throw Error(OXIML_STATUS_SHAPE, std::to_string(x.rows()) + " input rows but " + std::to_string(y.rows()) +
                                          " target rows");
    Trampoline t{&callback, nullptr};
    oximl_status status = oximl_sequential_fit(handle_.get(), x.data(), x.rows(), x.cols(), y.data(), y.cols(),
                                               options_json.c_str(), callback ? &Trampoline::call : nullptr, &t);
    if (t.error) std::rethrow_exception(t.error);
    detail::check(status);
  }

  /// The outputs for `x`: `x.rows() × output_dim()` floats, row-major.
  std::vector<float> predict(const Matrix &x) const {
    std::vector<float> out;
    predict(x, out);
    return out;
  }

  /// The outputs for `x` into `out`, resized to `x.rows() × output_dim()` (reuse it to avoid allocating).
  void predict(const Matrix &x, std::vector<float> &out) const {
    out.resize(x.rows() * output_dim());
    detail::check(oximl_sequential_predict(handle_.get(), x.data(), x.rows(), x.cols(), out.data(), out.size()));
  }

  /// The loss, then each compiled metric in compile order.
  std::vector<double> evaluate(const Matrix &x, const Matrix &y) const {
    std::vector<double> out(8);
    std::size_t written = 0;
    oximl_status status = oximl_sequential_evaluate(handle_.get(), x.data(), x.rows(), x.cols(), y.data(), y.cols(),
                                                    out.data(), out.size(), &written);
    if (status == OXIML_STATUS_INVALID_ARGUMENT && written > out.size()) {  // more metrics than guessed
      out.resize(written);
      status = oximl_sequential_evaluate(handle_.get(), x.data(), x.rows(), x.cols(), y.data(), y.cols(), out.data(),
                                         out.size(), &written);
    }
    detail::check(status);
    out.resize(written);
    return out;
  }

  /// The number of outputs per sample.
  std::size_t output_dim() const {
    std::size_t dim = 0;
    detail::check(oximl_sequential_output_dim(handle_.get(), &dim));
    return dim;
  }

  /// A Keras-style summary of the layers.
  std::string summary() const {
    char *raw = nullptr;
    detail::check(oximl_sequential_summary(handle_.get(), &raw));
    return take_string(raw);
  }

  /// Saves the model in the oximl format.
  void save(const std::string &path) const { detail::check(oximl_sequential_save(handle_.get(), path.c_str())); }

  /// The C handle, for calls this wrapper does not cover (NULL after a move).
  const oximl_sequential *get() const noexcept { return handle_.get(); }
  explicit operator bool() const noexcept { return static_cast<bool>(handle_); }

 private:
  explicit Sequential(oximl_sequential *raw) noexcept : handle_(raw) {}

  /// Adapts an EpochCallback to the C callback; an exception is kept here and training cancelled.
  struct Trampoline {
    const EpochCallback *callback;
    std::exception_ptr error;

    static int call(void *user, const oximl_epoch_log *log) noexcept {
      auto *self = static_cast<Trampoline *>(user);
      try {
        EpochLog e;
        e.epoch = log->epoch;
        for (std::size_t i = 0; i < log->count; i++) e.values.emplace_back(log->names[i], log->values[i]);
        return (*self->callback)(e) ? 1 : 0;
      } catch (...) {
        self->error = std::current_exception();
        return 1;
      }
    }
  };

  Handle<oximl_sequential, oximl_sequential_free> handle_;
};

}  // namespace oximl

#endif  // OXIML_HPP
