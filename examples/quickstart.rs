//! The main job: a digit classifier trained, evaluated, saved, reloaded and served.
//!
//! `cargo run --release --example quickstart`
//!
//! Loads the UCI handwritten digits shipped with oximl (1,797 images of 8×8 pixels), standardizes them, splits
//! them (stratified), trains a 64-128-64-10 relu network with Adam for 20 epochs with a progress line per
//! epoch, evaluates it on the held-out test set, saves it in the oximl format (readable from C and Python too),
//! reloads it and checks that the reloaded model predicts the same, bit for bit.

use ndarray::Axis;
use oximl::Persist;
use oximl::data::{StandardScaler, datasets, train_test_split};
use oximl::kernel::{Activation, CpuLevel};
use oximl::nn::{Accumulator, Dense, EarlyStopping, FitOptions, Loss, Metric, Sequential, Verbosity};
use oximl::optim::Optimizer;
use std::time::Instant;

fn main() -> oximl::Result<()> {
    println!("oximl {} | CPU level {} | {} threads", oximl::VERSION, CpuLevel::current().name(), oximl::num_threads());

    // Data: load, split (stratified, seeded), standardize with statistics of the training set only.
    let digits = datasets::digits()?;
    let (x_train, x_test, y_train, y_test) = train_test_split(&digits.x, &digits.y, 0.2, 42, true)?;
    let mut scaler = StandardScaler::new();
    let x_train = scaler.fit_transform(&x_train)?;
    let x_test = scaler.transform(&x_test)?;
    let (y_train, y_test) = (y_train.insert_axis(Axis(1)), y_test.insert_axis(Axis(1)));
    println!("digits: {} training and {} test images of {} pixels", x_train.nrows(), x_test.nrows(), x_train.ncols());

    // Model: 64-128-64-10.
    let mut model = Sequential::with_seed(64, 42);
    model
        .add(Dense::new(128).activation(Activation::Relu))?
        .add(Dense::new(64).activation(Activation::Relu))?
        .add(Dense::new(10).activation(Activation::Softmax))?;
    model.compile(
        Optimizer::adam(1e-3),
        Loss::SparseCategoricalCrossentropy { from_logits: false },
        &[Metric::Accuracy, Metric::F1],
    )?;
    print!("{}", model.summary());

    // Training: 20 epochs, 10% of the training set held out for validation, early stopping as a safety net.
    let start = Instant::now();
    let history = model.fit(
        x_train.view(),
        y_train.view(),
        FitOptions {
            epochs: 20,
            batch_size: 32,
            seed: 42,
            validation_split: 0.1,
            verbose: Verbosity::Line,
            callbacks: vec![Box::new(EarlyStopping::new("val_loss", 5).restore_best_weights(true))],
            ..Default::default()
        },
    )?;
    println!("trained {} epochs in {:.2} s", history.epochs.len(), start.elapsed().as_secs_f64());

    // Evaluation on the test set.
    let logs = model.evaluate(x_test.view(), y_test.view())?;
    let test_accuracy = logs.get("accuracy").unwrap_or(f64::NAN);
    println!(
        "test: loss {:.4}, accuracy {:.4}, macro F1 {:.4}",
        logs.get("loss").unwrap_or(f64::NAN),
        test_accuracy,
        logs.get("f1_score").unwrap_or(f64::NAN)
    );
    let mut acc = Accumulator::new(10, true);
    acc.add(model.predict(x_test.view())?.view(), y_test.view(), None)?;
    println!("confusion matrix (rows: true digit, columns: predicted):\n{}", acc.confusion_matrix());

    // Save, reload, serve.
    let path = std::env::temp_dir().join("oximl-quickstart-digits.oximl");
    model.save(&path)?;
    let served = Sequential::load(&path)?;
    let same = served.predict(x_test.view())? == model.predict(x_test.view())?;
    let classes = served.predict_classes(x_test.view())?;
    let first = x_test.slice(ndarray::s![..1, ..]);
    served.predict(first)?; // warm
    let start = Instant::now();
    let one = served.predict(first)?;
    let latency = start.elapsed();
    println!(
        "saved to {} ({} bytes), reloaded: identical predictions = {same}; first test images predicted {:?}, true {:?}",
        path.display(),
        std::fs::metadata(&path).map_err(|e| oximl::Error::io(&path, e))?.len(),
        &classes[..10],
        y_test.column(0).iter().take(10).map(|&v| v as usize).collect::<Vec<_>>()
    );
    println!("one prediction: {:?} in {latency:?}", oximl::kernel::argmax_rows(one.view())?);
    if !same || test_accuracy < 0.96 {
        return Err(oximl::Error::invalid("quickstart", format!("accuracy {test_accuracy:.4} or reload check failed")));
    }
    Ok(())
}
