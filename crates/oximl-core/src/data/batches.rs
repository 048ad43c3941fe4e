//! Mini-batches of `(x, y)` rows, in order or shuffled per seed.

use crate::{Error, Result};
use ndarray::{Array, Array2, ArrayView, ArrayView2, Axis, Ix1, RemoveAxis, Slice};
use ndarray_rand::rand::SeedableRng;
use ndarray_rand::rand::rngs::StdRng;
use ndarray_rand::rand::seq::SliceRandom;

/// Walks over `(x, y)` in batches of `batch_size` rows (the last one may be shorter unless
/// [`drop_last`](Self::drop_last)), one epoch per pass; [`reset`](Self::reset) starts the next epoch.
///
/// - In order (the default), each batch is a view into `x` and `y`: no copy at all.
/// - After [`shuffle(seed)`](Self::shuffle), the rows are visited in a random order drawn from `seed` (a new order
///   every epoch, the same sequence of orders for the same seed). Each batch's rows are gathered into two buffers
///   of `batch_size` rows, allocated once in `shuffle` and reused by every batch, and returned as views of them.
///
/// Batches borrow the iterator (they live until the next call), so this is a `while let` loop rather than an
/// [`Iterator`]. `y` may be 1-D (labels, targets) or 2-D (one-hot rows, several targets).
///
/// ```
/// use ndarray::{array, Array2};
/// use oximl_core::data::Batches;
/// let x = Array2::from_shape_fn((5, 2), |(i, _)| i as f32);
/// let y = array![0.0f32, 1.0, 2.0, 3.0, 4.0];
/// let mut batches = Batches::new(x.view(), y.view(), 2)?;
/// let mut sizes = vec![];
/// while let Some((xb, yb)) = batches.next_batch() {
///     assert_eq!(xb.column(0), yb);
///     sizes.push(yb.len());
/// }
/// assert_eq!(sizes, vec![2, 2, 1]);
///
/// let mut shuffled = Batches::new(x.view(), y.view(), 2)?.shuffle(42);
/// let mut rows = vec![];
/// while let Some((_, yb)) = shuffled.next_batch() {
///     rows.extend(yb.iter().map(|&v| v as usize));
/// }
/// rows.sort();
/// assert_eq!(rows, vec![0, 1, 2, 3, 4]);
/// # Ok::<(), oximl_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Batches<'a, D: RemoveAxis = Ix1> {
    x: ArrayView2<'a, f32>,
    y: ArrayView<'a, f32, D>,
    batch_size: usize,
    drop_last: bool,
    pos: usize,
    shuffled: Option<Shuffled<D>>,
}

#[derive(Debug, Clone)]
struct Shuffled<D: RemoveAxis> {
    rng: StdRng,
    order: Vec<usize>,
    xbuf: Array2<f32>,
    ybuf: Array<f32, D>,
}

impl<'a, D: RemoveAxis> Batches<'a, D> {
    /// Batches over `x` and `y` in order. A `batch_size` of 0 or an empty `x` is [`Error::InvalidArgument`];
    /// `x` and `y` with different row counts [`Error::Shape`].
    ///
    /// ```
    /// use ndarray::{array, Array2};
    /// let x = Array2::<f32>::zeros((3, 2));
    /// let y = array![0.0f32, 1.0, 0.0];
    /// assert!(oximl_core::data::Batches::new(x.view(), y.view(), 0).is_err());
    /// let batches = oximl_core::data::Batches::new(x.view(), y.view(), 2)?;
    /// assert_eq!(batches.n_batches(), 2);
    /// # Ok::<(), oximl_core::Error>(())
    /// ```
    pub fn new(x: ArrayView2<'a, f32>, y: ArrayView<'a, f32, D>, batch_size: usize) -> Result<Batches<'a, D>> {
        if batch_size == 0 {
            return Err(Error::invalid("batch_size", "must be at least 1"));
        }
        if x.nrows() == 0 {
            return Err(Error::invalid("x", "no rows to make batches of"));
        }
        if y.ndim() == 0 || y.len_of(Axis(0)) != x.nrows() {
            return Err(Error::shape(
                format!("y with {} rows (as x)", x.nrows()),
                format!("y of shape {:?}", y.shape()),
            ));
        }
        Ok(Batches { x, y, batch_size, drop_last: false, pos: 0, shuffled: None })
    }

    /// Visits the rows in an order drawn from `seed`, a new one each epoch; allocates the two gather buffers.
    ///
    /// ```
    /// use ndarray::{array, Array2};
    /// let x = Array2::<f32>::zeros((4, 1));
    /// let y = array![0.0f32, 1.0, 2.0, 3.0];
    /// let mut a = oximl_core::data::Batches::new(x.view(), y.view(), 4)?.shuffle(3);
    /// let mut b = oximl_core::data::Batches::new(x.view(), y.view(), 4)?.shuffle(3);
    /// assert_eq!(a.next_batch().map(|(_, y)| y.to_owned()), b.next_batch().map(|(_, y)| y.to_owned()));
    /// # Ok::<(), oximl_core::Error>(())
    /// ```
    pub fn shuffle(mut self, seed: u64) -> Batches<'a, D> {
        let n = self.x.nrows();
        let rows = self.batch_size.min(n);
        let mut ydim = self.y.raw_dim();
        ydim[0] = rows;
        let mut rng = StdRng::seed_from_u64(seed);
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(&mut rng);
        self.shuffled =
            Some(Shuffled { rng, order, xbuf: Array2::zeros((rows, self.x.ncols())), ybuf: Array::zeros(ydim) });
        self.pos = 0;
        self
    }

    /// Whether to skip a last batch shorter than `batch_size` (default `false`). If every batch would be
    /// skipped (fewer rows than `batch_size`), there are none.
    ///
    /// ```
    /// use ndarray::{array, Array2};
    /// let x = Array2::<f32>::zeros((5, 1));
    /// let y = array![0.0f32, 1.0, 2.0, 3.0, 4.0];
    /// let batches = oximl_core::data::Batches::new(x.view(), y.view(), 2)?.drop_last(true);
    /// assert_eq!(batches.n_batches(), 2);
    /// # Ok::<(), oximl_core::Error>(())
    /// ```
    pub fn drop_last(mut self, yes: bool) -> Batches<'a, D> {
        self.drop_last = yes;
        self
    }

    /// The number of batches per epoch.
    ///
    /// ```
    /// use ndarray::{array, Array2};
    /// let x = Array2::<f32>::zeros((5, 1));
    /// let y = array![0.0f32, 1.0, 2.0, 3.0, 4.0];
    /// assert_eq!(oximl_core::data::Batches::new(x.view(), y.view(), 2)?.n_batches(), 3);
    /// # Ok::<(), oximl_core::Error>(())
    /// ```
    pub fn n_batches(&self) -> usize {
        let n = self.x.nrows();
        if self.drop_last { n / self.batch_size } else { n.div_ceil(self.batch_size) }
    }

    /// The next batch `(x rows, y rows)` of this epoch, or `None` at its end.
    ///
    /// ```
    /// use ndarray::{array, Array2};
    /// let x = Array2::<f32>::zeros((3, 1));
    /// let y = array![0.0f32, 1.0, 2.0];
    /// let mut batches = oximl_core::data::Batches::new(x.view(), y.view(), 3)?;
    /// assert!(batches.next_batch().is_some());
    /// assert!(batches.next_batch().is_none());
    /// # Ok::<(), oximl_core::Error>(())
    /// ```
    pub fn next_batch(&mut self) -> Option<(ArrayView2<'_, f32>, ArrayView<'_, f32, D>)> {
        let n = self.x.nrows();
        let start = self.pos;
        let end = start.saturating_add(self.batch_size).min(n);
        if start >= n || (self.drop_last && end - start < self.batch_size) {
            return None;
        }
        self.pos = end;
        match &mut self.shuffled {
            None => {
                let rows = Slice::from(start..end);
                Some((self.x.slice_axis(Axis(0), rows), self.y.slice_axis(Axis(0), rows)))
            }
            Some(s) => {
                let idx = &s.order[start..end];
                for (i, &r) in idx.iter().enumerate() {
                    s.xbuf.row_mut(i).assign(&self.x.row(r));
                    s.ybuf.index_axis_mut(Axis(0), i).assign(&self.y.index_axis(Axis(0), r));
                }
                let rows = Slice::from(0..idx.len());
                Some((s.xbuf.slice_axis(Axis(0), rows), s.ybuf.slice_axis(Axis(0), rows)))
            }
        }
    }

    /// Starts the next epoch: back to the first batch, with a fresh order when shuffling.
    ///
    /// ```
    /// use ndarray::{array, Array2};
    /// let x = Array2::<f32>::zeros((2, 1));
    /// let y = array![0.0f32, 1.0];
    /// let mut batches = oximl_core::data::Batches::new(x.view(), y.view(), 2)?;
    /// while batches.next_batch().is_some() {}
    /// batches.reset();
    /// assert!(batches.next_batch().is_some());
    /// # Ok::<(), oximl_core::Error>(())
    /// ```
    pub fn reset(&mut self) {
        self.pos = 0;
        if let Some(s) = &mut self.shuffled {
            s.order.shuffle(&mut s.rng);
        }
    }
}
