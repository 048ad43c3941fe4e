//! Quantized and pruned `Sequential` models: the state ([`Compression`]) and what `quantize`, `prune`,
//! `prune_low_magnitude`, `strip_pruning` and `sparsity` do to a model; inference through the int8 kernel; the
//! mask kept through training (one hook after each optimizer step); the kernels' int8 and sparse file forms.
//! The configurations and algorithms are in [`crate::compress`].

use crate::compress::sparse::Bitmap;
use crate::compress::{PruneConfig, PruningSchedule, QuantizeConfig, Scope, Sparsity, magnitude_masks};
use crate::error::{Error, Result};
use crate::io::{self, TensorRef};
use crate::nn::{Layer, Param, Sequential};
use crate::optim::OptimizerState;
use ndarray::{Array2, ArrayView2, ArrayViewMut2, Ix1, Zip};
use oximl_kernel::{Epilogue, PackedI8};
use serde::{Deserialize, Serialize};

/// What compression did to a model: its int8 kernels, its pruning masks.
#[derive(Clone, Debug, Default)]
pub(crate) struct Compression {
    quantized: Option<Quantized>,
    pruning: Option<Pruning>,
}

#[derive(Clone, Debug)]
struct Quantized {
    config: QuantizeConfig,
    /// One entry per layer: the packed kernel of a Dense layer.
    kernels: Vec<Option<PackedI8>>,
}

#[derive(Clone, Debug)]
struct Pruning {
    /// One entry per layer: `true` = kept, for the pruned Dense layers.
    masks: Vec<Option<Array2<bool>>>,
    schedule: Option<PruningSchedule>,
    /// Optimizer steps taken under pruning (the schedule's clock).
    step: u64,
}

/// The pruning state in the model file's config; the masks are the sparse kernels' bitmaps.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PruningRecord {
    /// The pruned layers (their kernels are stored sparse).
    layers: Vec<usize>,
    #[serde(default)]
    schedule: Option<PruningSchedule>,
    #[serde(default)]
    step: u64,
}

impl Sequential {
    /// Quantizes the model in place (Keras 3's `model.quantize("int8")`): each Dense kernel becomes int8,
    /// symmetric per output unit (`|w − scale·q| ≤ scale/2`); `predict` and `evaluate` then quantize each row of
    /// activations to `u8` and multiply exactly in `i32` ([`oximl_kernel::qgemm_fused`]), with the bias and the
    /// activation in `f32`. `get_weights` returns the dequantized kernels. A quantized model cannot be trained,
    /// pruned or quantized again; pruning masks are dropped (the zeros stay zero). The optimizer state is cleared.
    ///
    /// ```
    /// use ndarray::Array2;
    /// use oximl_core::compress::QuantizeConfig;
    /// use oximl_core::nn::{Dense, Sequential};
    /// let mut m = Sequential::new(4);
    /// m.add(Dense::new(3))?;
    /// let x = Array2::from_elem((2, 4), 0.5f32);
    /// let before = m.predict(x.view())?;
    /// m.quantize(&QuantizeConfig::from_name("int8")?)?;
    /// let after = m.predict(x.view())?;
    /// assert!(before.iter().zip(&after).all(|(a, b)| (a - b).abs() < 0.02));
    /// assert!(m.quantize(&QuantizeConfig::from_name("int8")?).is_err());
    /// # Ok::<(), oximl_core::Error>(())
    /// ```
    pub fn quantize(&mut self, config: &QuantizeConfig) -> Result<()> {
        self.check_compressible("quantize")?;
        let kernels = self.params.iter().map(|p| p.as_ref().map(|p| config.pack(p.kernel.view())).transpose());
        let kernels = kernels.collect::<Result<Vec<_>>>()?;
        for (p, packed) in self.params.iter_mut().zip(&kernels) {
            if let (Some(p), Some(packed)) = (p, packed) {
                p.kernel = packed.dequantize();
            }
        }
        self.compression = Compression { quantized: Some(Quantized { config: *config, kernels }), pruning: None };
        self.optimizer_state = OptimizerState::default();
        Ok(())
    }

    /// The quantization applied to the model, if any.
    ///
    /// ```
    /// assert!(oximl_core::nn::Sequential::new(2).quantization().is_none());
    /// ```
    pub fn quantization(&self) -> Option<&QuantizeConfig> {
        self.compression.quantized.as_ref().map(|q| &q.config)
    }

    /// The int8 kernel of layer `l` of a quantized model.
    pub(crate) fn quantized_kernel(&self, l: usize) -> Option<&PackedI8> {
        self.compression.quantized.as_ref()?.kernels.get(l)?.as_ref()
    }

    /// One-shot magnitude pruning: zeroes the smallest kernel weights (see [`PruneConfig`]) and keeps the mask, so
    /// that later `fit`s keep them zero (the mask is applied after every optimizer step). Pruning a pruned model
    /// prunes it further (its zeros are the smallest magnitudes).
    ///
    /// ```
    /// use oximl_core::compress::{PruneConfig, Scope};
    /// use oximl_core::nn::{Dense, Sequential};
    /// let mut m = Sequential::new(10);
    /// m.add(Dense::new(10))?.add(Dense::new(10))?;
    /// m.prune(&PruneConfig { sparsity: 0.3, scope: Scope::Layer, layers: Some(vec![1]) })?;
    /// assert_eq!(m.sparsity().layers, vec![(0, 0.0), (1, 0.3)]);
    /// assert!(m.prune(&PruneConfig::global(1.0)).is_err());
    /// # Ok::<(), oximl_core::Error>(())
    /// ```
    pub fn prune(&mut self, config: &PruneConfig) -> Result<()> {
        config.check()?;
        self.check_compressible("prune")?;
        let layers = self.dense_layers(config.layers.as_deref())?;
        let kernels: Vec<ArrayView2<'_, f32>> =
            layers.iter().filter_map(|&l| self.params[l].as_ref().map(|p| p.kernel.view())).collect();
        let new = magnitude_masks(&kernels, config.sparsity, config.scope);
        let pruning = self.compression.pruning.get_or_insert_with(|| Pruning {
            masks: vec![None; self.layers.len()],
            schedule: None,
            step: 0,
        });
        pruning.masks.resize(self.layers.len(), None); // layers may have been added since the last pruning
        for (l, mask) in layers.into_iter().zip(new) {
            pruning.masks[l] = Some(mask);
        }
        self.apply_masks();
        Ok(())
    }

    /// Prunes during training, as TF-MOT's `prune_low_magnitude`: every Dense kernel gets a mask (all kept at
    /// first) that `fit` recomputes per layer at the schedule's pruning steps and applies after every optimizer
    /// step. [`Sequential::strip_pruning`] removes the masks once training is done.
    ///
    /// ```
    /// use ndarray::Array2;
    /// use oximl_core::compress::PruningSchedule;
    /// use oximl_core::nn::{Dense, FitOptions, Loss, Sequential};
    /// use oximl_core::optim::Optimizer;
    /// let mut m = Sequential::new(8);
    /// m.add(Dense::new(8))?;
    /// m.compile(Optimizer::adam(0.01), Loss::MeanSquaredError, &[])?;
    /// let schedule =
    ///     PruningSchedule::ConstantSparsity { target_sparsity: 0.75, begin_step: 0, end_step: -1, frequency: 1 };
    /// m.prune_low_magnitude(schedule)?;
    /// let (x, y) = (Array2::ones((4, 8)), Array2::ones((4, 8)));
    /// m.fit(x.view(), y.view(), FitOptions { epochs: 2, ..Default::default() })?;
    /// assert_eq!(m.sparsity().total, 0.75);
    /// # Ok::<(), oximl_core::Error>(())
    /// ```
    pub fn prune_low_magnitude(&mut self, schedule: PruningSchedule) -> Result<()> {
        schedule.check()?;
        self.check_compressible("prune")?;
        let layers = self.dense_layers(None)?;
        let mut masks = vec![None; self.layers.len()];
        for l in layers {
            masks[l] = self.params[l].as_ref().map(|p| Array2::from_elem(p.kernel.dim(), true));
        }
        self.compression.pruning = Some(Pruning { masks, schedule: Some(schedule), step: 0 });
        Ok(())
    }

    /// Removes the pruning masks and schedule (TF-MOT's `strip_pruning`): the weights, zeros included, stay as they
    /// are, and the model trains and saves as a plain one.
    ///
    /// ```
    /// use oximl_core::compress::PruneConfig;
    /// use oximl_core::nn::{Dense, Sequential};
    /// let mut m = Sequential::new(4);
    /// m.add(Dense::new(4))?;
    /// m.prune(&PruneConfig::global(0.5))?;
    /// m.strip_pruning();
    /// assert_eq!(m.sparsity().total, 0.5);
    /// # Ok::<(), oximl_core::Error>(())
    /// ```
    pub fn strip_pruning(&mut self) {
        self.compression.pruning = None;
    }

    /// The fraction of zero kernel weights, per Dense layer and in total.
    ///
    /// ```
    /// use oximl_core::nn::{Dense, Sequential};
    /// let mut m = Sequential::new(4);
    /// m.add(Dense::new(4))?;
    /// assert_eq!(m.sparsity().total, 0.0);
    /// # Ok::<(), oximl_core::Error>(())
    /// ```
    pub fn sparsity(&self) -> Sparsity {
        let (mut zeros, mut size, mut layers) = (0, 0, Vec::new());
        for (l, p) in self.params.iter().enumerate() {
            let Some(p) = p else { continue };
            let z = p.kernel.iter().filter(|&&w| w == 0.0).count();
            layers.push((l, z as f64 / p.kernel.len().max(1) as f64));
            (zeros, size) = (zeros + z, size + p.kernel.len());
        }
        Sparsity { layers, total: zeros as f64 / size.max(1) as f64 }
    }

    /// Refuses what a quantized model cannot do (`what`: "fit", "prune", ...).
    pub(super) fn check_not_quantized(&self, what: &str) -> Result<()> {
        match self.compression.quantized {
            Some(_) => Err(Error::invalid("model", format!("cannot {what} a quantized model"))),
            None => Ok(()),
        }
    }

    fn check_compressible(&self, what: &str) -> Result<()> {
        self.check_not_quantized(what)?;
        if self.params.iter().all(Option::is_none) {
            return Err(Error::NotFitted(format!("{what} needs a model with at least one Dense layer")));
        }
        Ok(())
    }

    /// The given layer indices (all Dense layers if `None`), each checked to be a Dense layer.
    fn dense_layers(&self, layers: Option<&[usize]>) -> Result<Vec<usize>> {
        let all: Vec<usize> = (0..self.layers.len()).filter(|&l| self.params[l].is_some()).collect();
        let Some(given) = layers else { return Ok(all) };
        let mut chosen = Vec::new();
        for &l in given {
            if !all.contains(&l) {
                return Err(Error::invalid("layers", format!("layer {l} is not a Dense layer of this model")));
            }
            if !chosen.contains(&l) {
                chosen.push(l);
            }
        }
        chosen.sort_unstable();
        Ok(chosen)
    }

    /// Zeroes the masked weights.
    pub(super) fn apply_masks(&mut self) {
        let Some(pruning) = &self.compression.pruning else { return };
        for (p, mask) in self.params.iter_mut().zip(&pruning.masks) {
            if let (Some(p), Some(mask)) = (p, mask) {
                Zip::from(&mut p.kernel).and(mask).for_each(|w, &keep| *w = if keep { *w } else { 0.0 });
            }
        }
    }

    /// The pruning hook of training, after each optimizer step: updates the masks on the schedule's pruning steps,
    /// then zeroes the masked weights (so the optimizer's moments never bring them back).
    pub(super) fn after_optimizer_step(&mut self) {
        let Some(pruning) = &mut self.compression.pruning else { return };
        if let Some(sparsity) = pruning.schedule.and_then(|s| s.sparsity_at(pruning.step)) {
            let layers: Vec<usize> = (0..pruning.masks.len()).filter(|&l| pruning.masks[l].is_some()).collect();
            let kernels: Vec<ArrayView2<'_, f32>> =
                layers.iter().filter_map(|&l| self.params[l].as_ref().map(|p| p.kernel.view())).collect();
            for (l, mask) in layers.iter().zip(magnitude_masks(&kernels, sparsity, Scope::Layer)) {
                pruning.masks[*l] = Some(mask);
            }
        }
        pruning.step += 1;
        self.apply_masks();
    }

    /// `out = act(x·W + b)` for Dense layer `l`: through the int8 kernel when the model is quantized.
    pub(super) fn dense_product(
        &self,
        l: usize,
        x: ArrayView2<'_, f32>,
        p: &Param,
        epilogue: Epilogue<'_, f32>,
        mut out: ArrayViewMut2<'_, f32>,
    ) -> Result<()> {
        let packed = self.compression.quantized.as_ref().and_then(|q| q.kernels.get(l)).and_then(Option::as_ref);
        match packed {
            None => Ok(oximl_kernel::gemm_fused(1.0, x, p.kernel.view(), 0.0, out, epilogue)?),
            Some(w) if out.is_standard_layout() => Ok(oximl_kernel::qgemm_fused(x, w, epilogue, out)?),
            Some(w) => {
                let mut tmp = Array2::zeros(out.dim());
                oximl_kernel::qgemm_fused(x, w, epilogue, tmp.view_mut())?;
                out.assign(&tmp);
                Ok(())
            }
        }
    }
}

/// How the kernel of one Dense layer goes into the file.
pub(super) enum StoredKernel<'a> {
    /// `layers.{l}.kernel`, `f32`.
    Dense(ArrayView2<'a, f32>),
    /// `layers.{l}.kernel`, `i8`, and `layers.{l}.kernel_scale` (one `f32` per unit).
    Int8(Array2<i8>, &'a [f32]),
    /// `layers.{l}.kernel_bits` (`u8` bitmap) and `layers.{l}.kernel_values` (`f32`), see [`Bitmap`].
    Sparse(Bitmap),
}

impl StoredKernel<'_> {
    /// The named tensors of layer `l`.
    pub(super) fn tensors(&self, l: usize) -> Vec<(String, TensorRef<'_>)> {
        match self {
            StoredKernel::Dense(k) => vec![(format!("layers.{l}.kernel"), TensorRef::new(k.view()))],
            StoredKernel::Int8(q, scales) => vec![
                (format!("layers.{l}.kernel"), TensorRef::new(q.view())),
                (format!("layers.{l}.kernel_scale"), TensorRef::new(ndarray::ArrayView1::from(*scales))),
            ],
            StoredKernel::Sparse(b) => vec![
                (format!("layers.{l}.kernel_bits"), TensorRef::new(b.bits.view())),
                (format!("layers.{l}.kernel_values"), TensorRef::new(b.values.view())),
            ],
        }
    }
}

impl Sequential {
    /// Each layer's kernel as stored (`None` for dropout), and the quantization and pruning records of the config.
    pub(super) fn stored_kernels(
        &self,
    ) -> (Vec<Option<StoredKernel<'_>>>, Option<QuantizeConfig>, Option<PruningRecord>) {
        let quantized = self.compression.quantized.as_ref();
        let pruning = self.compression.pruning.as_ref();
        let kernels = self.params.iter().enumerate().map(|(l, p)| {
            let p = p.as_ref()?;
            let packed = quantized.and_then(|q| q.kernels.get(l)?.as_ref());
            // Layers added after pruning have no mask.
            let mask = pruning.and_then(|r| r.masks.get(l)?.as_ref());
            Some(match (packed, mask) {
                (Some(w), _) => StoredKernel::Int8(w.quantized(), w.scales()),
                (None, Some(mask)) => StoredKernel::Sparse(Bitmap::encode(p.kernel.view(), mask.view())),
                (None, None) => StoredKernel::Dense(p.kernel.view()),
            })
        });
        let record = pruning.map(|r| PruningRecord {
            layers: (0..r.masks.len()).filter(|&l| r.masks[l].is_some()).collect(),
            schedule: r.schedule,
            step: r.step,
        });
        (kernels.collect(), quantized.map(|q| q.config), record)
    }
}

/// Reads the kernels of a model file, as its quantization and pruning records say, and gathers the model's
/// [`Compression`].
pub(super) struct KernelReader {
    quantization: Option<QuantizeConfig>,
    pruning: Option<PruningRecord>,
    packed: Vec<Option<PackedI8>>,
    masks: Vec<Option<Array2<bool>>>,
}

impl KernelReader {
    pub(super) fn new(
        quantization: Option<QuantizeConfig>,
        pruning: Option<PruningRecord>,
        layers: &[Layer],
    ) -> Result<Self> {
        if quantization.is_some() && pruning.is_some() {
            return Err(Error::Format("a model file cannot be both quantized and pruned".into()));
        }
        if let Some(r) = &pruning {
            if let Some(&l) = r.layers.iter().find(|&&l| !matches!(layers.get(l), Some(Layer::Dense(_)))) {
                return Err(Error::Format(format!("pruned layer {l} is not a Dense layer")));
            }
            if let Some(s) = &r.schedule {
                s.check().map_err(|e| Error::Format(format!("invalid pruning schedule: {e}")))?;
            }
        }
        let n = layers.len();
        Ok(KernelReader { quantization, pruning, packed: vec![None; n], masks: vec![None; n] })
    }

    /// The kernel of Dense layer `l` (`inputs × units`), dequantized or made dense.
    pub(super) fn kernel(&mut self, file: &io::Loaded, l: usize, inputs: usize, units: usize) -> Result<Array2<f32>> {
        if let Some(config) = &self.quantization {
            let q = file.matrix::<i8>(&format!("layers.{l}.kernel"), Some(inputs), Some(units))?;
            let scales = file.tensor::<f32>(&format!("layers.{l}.kernel_scale"), &[Some(units)])?;
            let scales = scales.into_dimensionality::<Ix1>().map_err(|e| Error::Format(e.to_string()))?;
            let packed = config.pack_quantized(q.view(), scales.view()).map_err(|e| Error::Format(e.to_string()))?;
            let kernel = packed.dequantize();
            self.packed[l] = Some(packed);
            return Ok(kernel);
        }
        if self.pruning.as_ref().is_some_and(|r| r.layers.contains(&l)) {
            let bits = file.tensor::<u8>(&format!("layers.{l}.kernel_bits"), &[None])?;
            let values = file.tensor::<f32>(&format!("layers.{l}.kernel_values"), &[None])?;
            let as1 = |e: ndarray::ShapeError| Error::Format(e.to_string());
            let map = Bitmap {
                bits: bits.into_dimensionality().map_err(as1)?,
                values: values.into_dimensionality().map_err(as1)?,
            };
            let (kernel, mask) = map.decode((inputs, units))?;
            self.masks[l] = Some(mask);
            return Ok(kernel);
        }
        file.matrix::<f32>(&format!("layers.{l}.kernel"), Some(inputs), Some(units))
    }

    /// The compression state of the model read.
    pub(super) fn finish(self) -> Compression {
        Compression {
            quantized: self.quantization.map(|config| Quantized { config, kernels: self.packed }),
            pruning: self.pruning.map(|r| Pruning { masks: self.masks, schedule: r.schedule, step: r.step }),
        }
    }
}
