//! The "sealed" input form of the model-file targets: a JSON config and a list of tensors, turned into a valid
//! oximl file by [`oximl_core::io::to_bytes`] (correct checksum and safetensors header), so that the fuzzer reaches
//! each kind's config and shape checks instead of stopping at the checksum.
//!
//! Layout: the config JSON, a zero byte, then per tensor: its name, a zero byte, a dtype byte (0 F32, 1 F64, 2 U8,
//! 3 I64, 4 U64), a rank byte (0–3), each dimension as a little-endian `u16`, then its elements in little endian
//! (zeros if the input ends first).

use crate::Reader;
use ndarray::{ArrayD, IxDyn};
use oximl_core::io::{self, DType, Element, Loaded, TensorRef};

/// Elements per tensor above which [`seal`] gives up on an input (a limit of the harness, not of the library: the
/// file would hold data the input does not).
const MAX_ELEMENTS: usize = 1 << 16;

/// A tensor decoded from an input.
enum Tensor {
    F32(ArrayD<f32>),
    F64(ArrayD<f64>),
    U8(ArrayD<u8>),
    I64(ArrayD<i64>),
    U64(ArrayD<u64>),
}

impl Tensor {
    fn as_ref(&self) -> TensorRef<'_> {
        match self {
            Tensor::F32(a) => TensorRef::new(a.view()),
            Tensor::F64(a) => TensorRef::new(a.view()),
            Tensor::U8(a) => TensorRef::new(a.view()),
            Tensor::I64(a) => TensorRef::new(a.view()),
            Tensor::U64(a) => TensorRef::new(a.view()),
        }
    }
}

fn array<T: Element>(shape: &[usize], r: &mut Reader<'_>) -> Option<ArrayD<T>> {
    let n: usize = shape.iter().product();
    let values = (0..n).map(|_| {
        let bytes: Vec<u8> = (0..T::DTYPE.size()).map(|_| r.byte()).collect();
        T::from_le(&bytes)
    });
    ArrayD::from_shape_vec(IxDyn(shape), values.collect()).ok()
}

/// The oximl file of kind `kind` that a sealed input describes, or `None` if it does not describe one.
///
/// ```
/// let file = oximl_fuzz::sealed::seal(b"{}\0", "demo").unwrap();
/// assert!(oximl_core::io::from_bytes(&file, "demo").is_ok());
/// ```
pub fn seal(data: &[u8], kind: &str) -> Option<Vec<u8>> {
    let split = data.iter().position(|&b| b == 0)?;
    let config: serde_json::Value = serde_json::from_slice(&data[..split]).ok()?;
    let mut r = Reader(&data[split + 1..]);
    let mut tensors = Vec::new();
    while !r.0.is_empty() {
        let end = r.0.iter().position(|&b| b == 0)?;
        let name = std::str::from_utf8(&r.0[..end]).ok()?.to_string();
        r.0 = &r.0[end + 1..];
        let dtype = r.byte();
        let shape: Vec<usize> =
            (0..r.byte() % 4).map(|_| usize::from(u16::from_le_bytes([r.byte(), r.byte()]))).collect();
        if shape.iter().product::<usize>() > MAX_ELEMENTS {
            return None;
        }
        let tensor = match dtype % 5 {
            0 => Tensor::F32(array(&shape, &mut r)?),
            1 => Tensor::F64(array(&shape, &mut r)?),
            2 => Tensor::U8(array(&shape, &mut r)?),
            3 => Tensor::I64(array(&shape, &mut r)?),
            _ => Tensor::U64(array(&shape, &mut r)?),
        };
        tensors.push((name, tensor));
    }
    let refs: Vec<(&str, TensorRef<'_>)> = tensors.iter().map(|(n, t)| (n.as_str(), t.as_ref())).collect();
    io::to_bytes(kind, &config, &refs).ok()
}

fn put<T: Element>(file: &Loaded, name: &str, code: u8, out: &mut Vec<u8>) -> Option<()> {
    let (_, shape) = file.info(name)?;
    let a = file.tensor::<T>(name, &vec![None; shape.len()]).ok()?;
    out.extend(name.as_bytes());
    out.extend([0, code, u8::try_from(shape.len()).ok()?]);
    for &d in shape {
        out.extend(u16::try_from(d).ok()?.to_le_bytes());
    }
    a.iter().for_each(|v| v.put_le(out));
    Some(())
}

/// The sealed form of a loaded oximl file (seeds of the corpus), or `None` if a tensor is too large for it.
///
/// ```
/// let file = oximl_core::io::to_bytes("demo", &serde_json::json!({"a": 1}), &[]).unwrap();
/// let loaded = oximl_core::io::from_bytes(&file, "demo").unwrap();
/// let sealed = oximl_fuzz::sealed::unseal(&loaded).unwrap();
/// assert_eq!(oximl_fuzz::sealed::seal(&sealed, "demo").unwrap(), file);
/// ```
pub fn unseal(file: &Loaded) -> Option<Vec<u8>> {
    let mut out = file.config().to_string().into_bytes();
    out.push(0);
    for name in file.names() {
        match file.info(name)?.0 {
            DType::F32 => put::<f32>(file, name, 0, &mut out)?,
            DType::F64 => put::<f64>(file, name, 1, &mut out)?,
            DType::U8 => put::<u8>(file, name, 2, &mut out)?,
            DType::I64 => put::<i64>(file, name, 3, &mut out)?,
            DType::U64 => put::<u64>(file, name, 4, &mut out)?,
            _ => return None,
        }
    }
    Some(out)
}
