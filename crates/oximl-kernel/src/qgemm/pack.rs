//! int8 weights packed once into the layout the micro-kernels read, with their per-column sums and scales.

use super::{ActivationRange, GROUP, MAX_K, PANEL};
use crate::error::{KernelError, Result};
use ndarray::{Array2, ArrayView1, ArrayView2};

/// The largest weight magnitude after symmetric quantization (the range is `[-127, 127]`, as ONNX Runtime and
/// PyTorch quantize weights symmetrically).
const QMAX: f32 = 127.0;

/// A `k × n` int8 weight matrix `B` packed for [`qgemm`](super::qgemm) and [`qgemm_fused`](super::qgemm_fused),
/// with one `f32` scale per output column (`B ≈ scale[j] · q[·][j]`) and the column sums `Σₖ q[k][j]` that the
/// activations' zero points are corrected with.
///
/// Layout: columns in panels of 16; in each panel, `k` in groups of 4 (zero-padded), and for each group the 4
/// consecutive `k` values of each of the 16 columns side by side (64 bytes): one 512-bit load feeds one
/// `vpdpbusd` for 16 columns and 4 values of `k`.
///
/// ```
/// use ndarray::array;
/// let w = array![[0.5f32, -1.0], [0.25, 2.0]];
/// let p = oximl_kernel::PackedI8::quantize(w.view()).unwrap();
/// assert_eq!((p.k(), p.n()), (2, 2));
/// assert_eq!(p.quantized(), array![[127i8, -64], [64, 127]]);
/// assert_eq!(p.column_sums(), &[191, 63]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct PackedI8 {
    k: usize,
    n: usize,
    data: Vec<i8>,
    column_sums: Vec<i32>,
    scales: Vec<f32>,
    activations: ActivationRange,
}

impl PackedI8 {
    /// Quantizes a `k × n` weight matrix symmetrically per output column: `scale[j] = max |w[·][j]| / 127`,
    /// `q = round(w / scale)`, so that `|w − scale·q| ≤ scale/2` (a zero column gets scale 1). Refuses
    /// non-finite weights and `k` over 65,536 (where int32 sums could overflow).
    ///
    /// ```
    /// use ndarray::array;
    /// let p = oximl_kernel::PackedI8::quantize(array![[1.0f32], [-0.5]].view()).unwrap();
    /// assert_eq!(p.scales(), &[1.0 / 127.0]);
    /// assert!((p.dequantize()[[1, 0]] + 0.5).abs() <= p.scales()[0] / 2.0);
    /// ```
    pub fn quantize(w: ArrayView2<'_, f32>) -> Result<Self> {
        if w.iter().any(|v| !v.is_finite()) {
            return Err(KernelError::InvalidArgument { name: "weights", reason: "a weight is NaN or infinite".into() });
        }
        let scales: Vec<f32> = w
            .columns()
            .into_iter()
            .map(|col| {
                let scale = col.iter().fold(0.0f32, |m, v| m.max(v.abs())) / QMAX;
                if scale > 0.0 { scale } else { 1.0 }
            })
            .collect();
        let q =
            Array2::from_shape_fn(w.dim(), |(p, j)| (w[[p, j]] / scales[j]).round_ties_even().clamp(-QMAX, QMAX) as i8);
        Self::from_quantized(q.view(), ArrayView1::from(&scales))
    }

    /// Packs weights that are already quantized (e.g. loaded from a model file): `q` is `k × n`, `scales` has
    /// one finite positive value per column. Every `i8` value is allowed, `-128` included.
    ///
    /// ```
    /// use ndarray::array;
    /// let q = array![[1i8, -128], [3, 127]];
    /// let p = oximl_kernel::PackedI8::from_quantized(q.view(), array![0.5f32, 0.25].view()).unwrap();
    /// assert_eq!(p.quantized(), q);
    /// assert_eq!(p.dequantize(), array![[0.5f32, -32.0], [1.5, 31.75]]);
    /// ```
    pub fn from_quantized(q: ArrayView2<'_, i8>, scales: ArrayView1<'_, f32>) -> Result<Self> {
        let (k, n) = q.dim();
        if scales.len() != n {
            return Err(KernelError::Shape {
                op: "PackedI8 scales",
                expected: format!("{n} values (one per output column)"),
                got: format!("{}", scales.len()),
            });
        }
        if scales.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
            return Err(KernelError::InvalidArgument {
                name: "scales",
                reason: "a scale is not finite and positive".into(),
            });
        }
        if k > MAX_K {
            return Err(KernelError::InvalidArgument {
                name: "weights",
                reason: format!("{k} input features: int8 products support at most {MAX_K}"),
            });
        }
        let (groups, panels) = (k.div_ceil(GROUP), n.div_ceil(PANEL));
        let len = panels.checked_mul(groups * GROUP * PANEL).ok_or_else(|| KernelError::InvalidArgument {
            name: "weights",
            reason: format!("{k} × {n} is too large to pack"),
        })?;
        let mut data = vec![0i8; len];
        for ((p, j), &v) in q.indexed_iter() {
            let (panel, c) = (j / PANEL, j % PANEL);
            data[(panel * groups + p / GROUP) * GROUP * PANEL + c * GROUP + p % GROUP] = v;
        }
        let column_sums = q.columns().into_iter().map(|col| col.iter().map(|&v| i32::from(v)).sum()).collect();
        Ok(PackedI8 { k, n, data, column_sums, scales: scales.to_vec(), activations: ActivationRange::Full })
    }

    /// Sets the range [`qgemm_fused`](super::qgemm_fused) quantizes activations to (default: `Full`).
    ///
    /// ```
    /// use oximl_kernel::{ActivationRange, PackedI8};
    /// let p = PackedI8::quantize(ndarray::array![[1.0f32]].view()).unwrap().with_activation_range(ActivationRange::Reduced);
    /// assert_eq!(p.activation_range(), ActivationRange::Reduced);
    /// ```
    pub fn with_activation_range(mut self, range: ActivationRange) -> Self {
        self.activations = range;
        self
    }

    /// The range activations are quantized to before they are multiplied by these weights.
    ///
    /// ```
    /// let p = oximl_kernel::PackedI8::quantize(ndarray::array![[1.0f32]].view()).unwrap();
    /// assert_eq!(p.activation_range(), oximl_kernel::ActivationRange::Full);
    /// ```
    pub fn activation_range(&self) -> ActivationRange {
        self.activations
    }

    /// The number of rows of `B` (input features).
    ///
    /// ```
    /// let p = oximl_kernel::PackedI8::quantize(ndarray::Array2::<f32>::zeros((3, 2)).view()).unwrap();
    /// assert_eq!(p.k(), 3);
    /// ```
    pub fn k(&self) -> usize {
        self.k
    }

    /// The number of columns of `B` (output channels).
    ///
    /// ```
    /// let p = oximl_kernel::PackedI8::quantize(ndarray::Array2::<f32>::zeros((3, 2)).view()).unwrap();
    /// assert_eq!(p.n(), 2);
    /// ```
    pub fn n(&self) -> usize {
        self.n
    }

    /// The scale of each output column.
    ///
    /// ```
    /// let p = oximl_kernel::PackedI8::quantize(ndarray::array![[2.54f32]].view()).unwrap();
    /// assert_eq!(p.scales(), &[0.02]);
    /// ```
    pub fn scales(&self) -> &[f32] {
        &self.scales
    }

    /// `Σₖ q[k][j]` for each column `j`.
    ///
    /// ```
    /// let q = ndarray::array![[1i8], [-128]];
    /// let p = oximl_kernel::PackedI8::from_quantized(q.view(), ndarray::array![1.0f32].view()).unwrap();
    /// assert_eq!(p.column_sums(), &[-127]);
    /// ```
    pub fn column_sums(&self) -> &[i32] {
        &self.column_sums
    }

    /// The int8 matrix `q` (`k × n`), unpacked (what a model file stores).
    ///
    /// ```
    /// let q = ndarray::array![[1i8, 2, 3]];
    /// let p = oximl_kernel::PackedI8::from_quantized(q.view(), ndarray::array![1.0f32, 1.0, 1.0].view()).unwrap();
    /// assert_eq!(p.quantized(), q);
    /// ```
    pub fn quantized(&self) -> Array2<i8> {
        let groups = self.groups();
        Array2::from_shape_fn((self.k, self.n), |(p, j)| {
            self.data[((j / PANEL) * groups + p / GROUP) * GROUP * PANEL + (j % PANEL) * GROUP + p % GROUP]
        })
    }

    /// `scale[j] · q[k][j]`: the weights the quantized product computes with.
    ///
    /// ```
    /// let p = oximl_kernel::PackedI8::quantize(ndarray::array![[1.0f32, 0.0]].view()).unwrap();
    /// assert_eq!(p.dequantize(), ndarray::array![[1.0f32, 0.0]]);
    /// ```
    pub fn dequantize(&self) -> Array2<f32> {
        let mut w = self.quantized().mapv(f32::from);
        for (mut col, &s) in w.columns_mut().into_iter().zip(&self.scales) {
            col.mapv_inplace(|v| v * s);
        }
        w
    }

    /// Groups of 4 values of `k` per panel.
    pub(super) fn groups(&self) -> usize {
        self.k.div_ceil(GROUP)
    }

    /// The packed panels.
    pub(super) fn data(&self) -> &[i8] {
        &self.data
    }
}
