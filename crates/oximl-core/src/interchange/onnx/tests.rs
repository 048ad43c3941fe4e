use super::proto::{ModelProto, tensor_shape_proto::dimension::Value};
use super::*;
use crate::Persist;
use crate::nn::{Dense, Layer};
use ndarray::Array2;
use ndarray_rand::RandomExt;
use ndarray_rand::rand_distr::Uniform;
use oximl_kernel::Activation;

/// Every activation oximl has (with Keras' default alphas).
fn activations() -> impl Iterator<Item = Activation> {
    Activation::NAMES.into_iter().filter_map(Activation::from_name)
}

fn model(hidden: Activation, output: Activation, bias: bool) -> Sequential {
    let mut m = Sequential::with_seed(5, 3);
    m.add(Dense::new(7).activation(hidden).use_bias(bias)).unwrap();
    m.add(Layer::Dropout { rate: 0.5 }).unwrap();
    m.add(Dense::new(4).activation(output)).unwrap();
    // Non-zero biases, so that a lost bias shows.
    let w = m.get_weights().into_iter().map(|w| w.mapv(|v| v + 0.1)).collect();
    m.set_weights(w).unwrap();
    m
}

#[test]
fn every_activation_round_trips_exactly_and_dropout_is_left_out() {
    let x = Array2::random((9, 5), Uniform::new(-3.0f32, 3.0).unwrap());
    for act in activations() {
        for bias in [true, false] {
            let m = model(act, act, bias);
            let back = Sequential::from_onnx(&m.to_onnx()).unwrap();
            assert_eq!(back.layers().len(), 2, "{act:?}");
            assert_eq!(back.get_weights(), m.get_weights(), "{act:?}");
            assert_eq!(back.predict(x.view()).unwrap(), m.predict(x.view()).unwrap(), "{act:?}");
        }
    }
}

#[test]
fn the_export_names_its_input_output_producer_and_opset() {
    let decode = |m: &Sequential| ModelProto::decode(&m.to_onnx()[..]).unwrap();
    let onnx = decode(&model(Activation::Relu, Activation::Softmax, true));
    assert_eq!((onnx.producer_name(), onnx.producer_version()), ("oximl", crate::VERSION));
    assert_eq!(onnx.opset_import[0].version(), 17);
    let graph = onnx.graph.unwrap();
    let ops: Vec<&str> = graph.node.iter().map(|n| n.op_type()).collect();
    assert_eq!(ops, ["Gemm", "Relu", "Gemm", "Softmax"]);
    assert_eq!((graph.input[0].name(), graph.output[0].name()), (INPUT, OUTPUT));
    assert_eq!(graph.node.last().unwrap().output, [OUTPUT]);
    let Some(super::proto::type_proto::Value::TensorType(t)) = &graph.input[0].r#type.as_ref().unwrap().value else {
        panic!("not a tensor")
    };
    let dims: Vec<_> = t.shape.as_ref().unwrap().dim.iter().map(|d| d.value.clone()).collect();
    assert_eq!(dims, [Some(Value::DimParam("batch".into())), Some(Value::DimValue(5))]);
    assert_eq!(decode(&model(Activation::Gelu, Activation::Linear, true)).opset_import[0].version(), 20);
}

#[test]
fn a_model_without_dense_layers_is_the_identity() {
    let mut m = Sequential::new(3);
    m.add(Layer::Dropout { rate: 0.1 }).unwrap();
    let back = Sequential::from_onnx(&m.to_onnx()).unwrap();
    let x = Array2::random((2, 3), Uniform::new(-1.0f32, 1.0).unwrap());
    assert_eq!((back.input_dim(), back.predict(x.view()).unwrap()), (3, x));
}

#[test]
fn onnx_files_load_where_oximl_files_do_and_broken_ones_fail_cleanly() {
    let m = model(Activation::Tanh, Activation::Sigmoid, true);
    let bytes = m.to_onnx();
    assert!(looks_like_onnx(&bytes));
    assert_eq!(Sequential::from_bytes(&bytes).unwrap().get_weights(), m.get_weights());
    assert_eq!(Sequential::from_bytes(&m.to_bytes().unwrap()).unwrap().get_weights(), m.get_weights());
    for cut in [2, bytes.len() / 3, bytes.len() - 1] {
        let err = Sequential::from_bytes(&bytes[..cut]).unwrap_err();
        assert!(matches!(err, Error::Format(_)), "{cut}: {err}");
    }
}

#[test]
fn the_generated_types_come_from_the_shipped_onnx_proto() {
    let hash = format!("xxh3 {:016x}", xxhash_rust::xxh3::xxh3_64(include_bytes!("onnx.proto")));
    let header = include_str!("proto.rs").lines().next().unwrap_or_default();
    assert!(header.contains(&hash), "onnx.proto changed: regenerate proto.rs (see tools/onnx-proto)");
}

#[test]
fn corrupted_onnx_bytes_give_errors_or_models_never_panics() {
    let bytes = model(Activation::Elu { alpha: 0.5 }, Activation::Softmax, true).to_onnx();
    for i in 0..bytes.len() {
        for flip in [0x01u8, 0x80, 0xff] {
            let mut b = bytes.clone();
            b[i] ^= flip;
            if let Ok(m) = Sequential::from_onnx(&b) {
                let x = Array2::zeros((2, m.input_dim()));
                let _ = m.predict(x.view());
            }
        }
    }
}

#[test]
fn graphs_oximl_cannot_represent_are_refused_with_the_node_named() {
    use super::proto::AttributeProto;
    let bytes = model(Activation::Relu, Activation::Softmax, true).to_onnx();
    let edited = |edit: &dyn Fn(&mut ModelProto)| {
        let mut m = ModelProto::decode(&bytes[..]).unwrap();
        edit(&mut m);
        Sequential::from_onnx(&m.encode_to_vec()).unwrap_err().to_string()
    };
    let attribute = |name: &str, i: i64| AttributeProto { name: Some(name.into()), i: Some(i), ..Default::default() };
    let nodes = |m: &mut ModelProto| std::mem::take(&mut m.graph.as_mut().unwrap().node);
    let set = |m: &mut ModelProto, nodes| m.graph.as_mut().unwrap().node = nodes;
    let e = edited(&|m| {
        let mut n = nodes(m);
        n[3].attribute = vec![attribute("axis", 0)];
        set(m, n);
    });
    assert!(e.contains("dense_1/Softmax") && e.contains("axis 0"), "{e}");
    let e = edited(&|m| {
        let mut n = nodes(m);
        n[0].attribute = vec![attribute("transA", 1)];
        set(m, n);
    });
    assert!(e.contains("dense_0/Gemm") && e.contains("transA"), "{e}");
    let e = edited(&|m| {
        let mut n = nodes(m);
        n[1].op_type = Some("Conv".into());
        set(m, n);
    });
    assert!(e.contains("unsupported ONNX operator Conv in node 'dense_0/Relu'"), "{e}");
    let e = edited(&|m| m.graph.as_mut().unwrap().initializer[0].raw_data = Some(vec![0; 3]));
    assert!(e.contains("dense_0/kernel") && e.contains("3 bytes"), "{e}");
}

#[test]
fn a_quantized_model_exports_its_int8_product_with_unique_node_names() {
    use crate::compress::QuantizeConfig;
    for (hidden, opset) in [(Activation::Relu, 17), (Activation::Gelu, 20)] {
        let mut m = model(hidden, Activation::Softmax, true);
        m.quantize(&QuantizeConfig::from_name("int8").unwrap()).unwrap();
        let onnx = ModelProto::decode(&m.to_onnx()[..]).unwrap();
        assert_eq!(onnx.opset_import[0].version(), opset);
        let graph = onnx.graph.unwrap();
        let ops: Vec<&str> = graph.node.iter().map(|n| n.op_type()).collect();
        assert_eq!(ops.iter().filter(|&&op| op == "MatMulInteger").count(), 2, "{ops:?}");
        assert!(!ops.contains(&"Gemm"), "{ops:?}");
        let names: std::collections::HashSet<_> = graph.node.iter().map(|n| n.name()).collect();
        assert_eq!(names.len(), graph.node.len(), "node names are unique");
        // The reductions name their axis as opset 17 (attribute) or 18+ (input) wants it.
        let reduce = graph.node.iter().find(|n| n.op_type() == "ReduceMin").unwrap();
        assert_eq!((reduce.input.len(), reduce.attribute.len()), if opset >= 18 { (2, 1) } else { (1, 2) });
        let int8 = graph.initializer.iter().find(|t| t.name() == "dense_0/kernel_int8").unwrap();
        assert_eq!(
            (int8.data_type(), int8.dims.as_slice()),
            (super::proto::tensor_proto::DataType::Int8 as i32, &[5i64, 7][..])
        );
        assert_eq!(onnx.metadata_props.len(), 2);
    }
}
