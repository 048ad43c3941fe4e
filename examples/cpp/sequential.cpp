// Train, evaluate, save, load and predict a dense network on the shipped iris data through the C++ wrapper, and
// check the wrapper's contract: move-only handles, callbacks that stop or throw, errors as oximl::Error.
// Run from the repository root (it reads crates/oximl-core/data/iris.csv). Exits non-zero on any failed check.
#include "oximl.hpp"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

constexpr std::size_t COLS = 4, CLASSES = 3;

void require(bool ok, const std::string &what) {
  if (!ok) throw std::runtime_error("check failed: " + what);
}

/// The iris features (standardized) and labels.
void load_iris(const std::string &path, std::vector<float> &x, std::vector<float> &y) {
  std::ifstream in(path);
  std::string line;
  require(in && std::getline(in, line), "cannot read " + path + " (run from the repository root)");
  while (std::getline(in, line)) {
    std::istringstream row(line);
    std::string cell;
    for (std::size_t j = 0; j <= COLS && std::getline(row, cell, ','); j++)
      (j < COLS ? x : y).push_back(std::stof(cell));
  }
  require(x.size() == 150 * COLS && y.size() == 150, "iris has 150 rows of 4 features and a label");
  const std::size_t rows = y.size();
  for (std::size_t j = 0; j < COLS; j++) {
    double mean = 0, var = 0;
    for (std::size_t i = 0; i < rows; i++) mean += x[i * COLS + j];
    mean /= rows;
    for (std::size_t i = 0; i < rows; i++) var += (x[i * COLS + j] - mean) * (x[i * COLS + j] - mean);
    const double sd = std::sqrt(var / rows);
    for (std::size_t i = 0; i < rows; i++) x[i * COLS + j] = static_cast<float>((x[i * COLS + j] - mean) / sd);
  }
}

oximl::Sequential classifier(std::uint64_t seed) {
  oximl::Sequential model(COLS, seed);
  model.add(R"({"type": "dense", "units": 16, "activation": {"name": "relu"}})")
      .add(R"({"type": "dense", "units": 3, "activation": {"name": "softmax"}})");
  model.compile(R"({"optimizer": {"name": "adam", "learning_rate": 0.01},
                    "loss": {"name": "sparse_categorical_crossentropy"}, "metrics": ["accuracy"]})");
  return model;
}

/// The fraction of rows whose largest output is at the label's index.
double accuracy(const std::vector<float> &p, const std::vector<float> &y) {
  std::size_t right = 0;
  for (std::size_t i = 0; i < y.size(); i++) {
    std::size_t best = 0;
    for (std::size_t k = 1; k < CLASSES; k++)
      if (p[i * CLASSES + k] > p[i * CLASSES + best]) best = k;
    right += best == static_cast<std::size_t>(y[i]);
  }
  return static_cast<double>(right) / y.size();
}

/// Runs `f`, which must throw oximl::Error with `status` and a non-empty message.
template <typename F>
void expect_error(oximl_status status, const std::string &what, F f) {
  try {
    f();
  } catch (const oximl::Error &e) {
    require(e.status() == status, what + ": status " + std::to_string(e.status()) + " (" + e.what() + ")");
    require(e.what()[0] != '\0', what + ": an empty message");
    std::printf("%s -> %d: %s\n", what.c_str(), static_cast<int>(e.status()), e.what());
    return;
  }
  throw std::runtime_error(what + ": no oximl::Error thrown");
}

void run() {
  std::printf("oximl %s\n", oximl::version().c_str());
  std::vector<float> xv, yv;
  load_iris("crates/oximl-core/data/iris.csv", xv, yv);
  const oximl::Matrix x(xv, COLS), y(yv, 1);

  // Train with a progress callback.
  oximl::Sequential model = classifier(42);
  std::vector<double> losses;
  model.fit(x, y, R"({"epochs": 200, "batch_size": 16, "seed": 1})", [&](const oximl::EpochLog &log) {
    require(log.epoch == losses.size(), "epochs arrive in order");
    losses.push_back(log.at("loss"));
    return false;
  });
  require(losses.size() == 200, "the callback saw every epoch");
  require(losses.back() < losses.front() / 4, "the loss fell by 4x");

  // Evaluate, and check the reported accuracy against the predictions.
  const std::vector<double> scores = model.evaluate(x, y);
  require(scores.size() == 2, "evaluate returns loss and accuracy");
  const std::vector<float> p = model.predict(x);
  require(p.size() == yv.size() * CLASSES, "predict returns rows x classes");
  std::printf("loss %.4f, accuracy %.4f\n", scores[0], scores[1]);
  require(scores[1] >= 0.95, "accuracy >= 0.95");
  require(std::abs(accuracy(p, yv) - scores[1]) < 1e-12, "evaluate's accuracy is the predictions' accuracy");
  std::fputs(model.summary().c_str(), stdout);

  // Save, load, predict: bit-identical. Moving leaves an empty object that fails cleanly.
  const std::string path = "target/iris-cpp.oximl";
  model.save(path);
  oximl::Sequential loaded = oximl::Sequential::load(path);
  std::remove(path.c_str());
  std::vector<float> q;
  loaded.predict(x, q);
  require(q == p, "the loaded model predicts bit-identically");
  oximl::Sequential moved = std::move(loaded);
  require(moved && !loaded, "a move transfers the handle");
  require(moved.predict(x) == p, "the moved-to model predicts the same");
  expect_error(OXIML_STATUS_INVALID_ARGUMENT, "predict on a moved-from model", [&] { loaded.predict(x); });

  // A callback that asks to stop ends training early; one that throws cancels it and its exception comes back.
  oximl::Sequential early = classifier(3);
  std::size_t seen = 0;
  early.fit(x, y, R"({"epochs": 50})", [&](const oximl::EpochLog &log) { return ++seen, log.epoch == 4; });
  require(seen == 5, "returning true stopped after 5 epochs");
  seen = 0;
  try {
    early.fit(x, y, R"({"epochs": 50})", [&](const oximl::EpochLog &) -> bool {
      if (++seen == 3) throw std::logic_error("thrown by the callback");
      return false;
    });
    throw std::runtime_error("fit did not rethrow the callback's exception");
  } catch (const std::logic_error &e) {
    require(std::string(e.what()) == "thrown by the callback" && seen == 3, "the callback's exception, after 3");
  }
  require(early.predict(x).size() == p.size(), "the model still works after a cancelled fit");

  // Errors come back as oximl::Error with the C status and message.
  const std::vector<float> wide(2 * 5, 0.0f);
  expect_error(OXIML_STATUS_SHAPE, "predict with 5 features", [&] { model.predict(oximl::Matrix(wide, 5)); });
  expect_error(OXIML_STATUS_SHAPE, "a matrix of 10 values in rows of 3", [&] { oximl::Matrix(wide, 3); });
  expect_error(OXIML_STATUS_IO, "load a missing file", [] { oximl::Sequential::load("target/no-such.oximl"); });
  expect_error(OXIML_STATUS_INVALID_ARGUMENT, "add bad JSON", [&] { model.add("{not json"); });
}

}  // namespace

int main() {
  try {
    run();
  } catch (const std::exception &e) {
    std::fprintf(stderr, "sequential (C++): %s\n", e.what());
    return 1;
  }
  std::printf("sequential (C++): ok\n");
  return 0;
}
