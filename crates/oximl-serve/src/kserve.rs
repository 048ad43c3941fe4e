//! The Open Inference Protocol (KServe v2, REST): health, server and model metadata, readiness and `infer` with
//! typed tensors (numeric datatypes; values converted to FP32, shape checked against the data and the model).

use crate::server::{AppState, Served};
use crate::{ApiError, Model};
use axum::Json;
use axum::body::Bytes;
use axum::extract::Path;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use ndarray::Array2;
use serde::de::{Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::sync::atomic::Ordering;

/// `/v2/models/{name}[/versions/{version}]/...`.
#[derive(Deserialize)]
pub(crate) struct ModelPath {
    name: String,
    version: Option<String>,
}

/// The body of `infer`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InferRequest {
    id: Option<String>,
    inputs: Vec<InputTensor>,
    #[allow(dead_code)]
    outputs: Option<Value>,
    #[allow(dead_code)]
    parameters: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InputTensor {
    name: String,
    shape: Vec<usize>,
    datatype: String,
    data: Flat,
    #[allow(dead_code)]
    parameters: Option<Value>,
}

/// Tensor data, nested lists or flat (row-major), read flat.
struct Flat(Vec<f32>);

impl<'de> Deserialize<'de> for Flat {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Flat, D::Error> {
        struct Collect<'a>(&'a mut Vec<f32>);
        impl<'de> Visitor<'de> for Collect<'_> {
            type Value = ();
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("numbers, or lists of them")
            }
            fn visit_f64<E>(self, v: f64) -> Result<(), E> {
                self.0.push(v as f32);
                Ok(())
            }
            fn visit_i64<E>(self, v: i64) -> Result<(), E> {
                self.0.push(v as f32);
                Ok(())
            }
            fn visit_u64<E>(self, v: u64) -> Result<(), E> {
                self.0.push(v as f32);
                Ok(())
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
                while seq.next_element_seed(Seed(self.0))?.is_some() {}
                Ok(())
            }
        }
        struct Seed<'a>(&'a mut Vec<f32>);
        impl<'de> serde::de::DeserializeSeed<'de> for Seed<'_> {
            type Value = ();
            fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
                d.deserialize_any(Collect(self.0))
            }
        }
        let mut values = Vec::new();
        d.deserialize_any(Collect(&mut values))?;
        Ok(Flat(values))
    }
}

#[derive(Serialize)]
struct InferResponse {
    model_name: String,
    model_version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    outputs: [OutputTensor; 1],
}

#[derive(Serialize)]
struct OutputTensor {
    name: &'static str,
    shape: [usize; 2],
    datatype: &'static str,
    data: Vec<f32>,
}

/// The numeric datatypes whose JSON values are read (as FP32).
const NUMERIC: [&str; 10] = ["FP32", "FP64", "FP16", "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32"];

/// `GET /v2`.
pub(crate) async fn server_metadata() -> Response {
    Served::server("metadata").label(Json(json!({ "name": "oximl", "version": oximl_core::VERSION, "extensions": [] })))
}

/// `GET /v2/health/live`.
pub(crate) async fn live() -> Response {
    Served::server("health").label(Json(json!({ "live": true })))
}

/// `GET /v2/health/ready`: every model is loaded once the server listens; false once shutdown has begun.
pub(crate) async fn ready(state: AppState) -> Response {
    let ready = !state.0.stopping.load(Ordering::SeqCst);
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    Served::server("health").label((status, Json(json!({ "ready": ready }))))
}

/// `GET /v2/models/{name}[/versions/{version}]`.
pub(crate) async fn metadata(state: AppState, Path(path): Path<ModelPath>) -> Response {
    let servable = match state.0.servable(&path.name, path.version.as_deref()) {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    let tensors = |name: &str, width: usize| json!([{ "name": name, "datatype": "FP32", "shape": [-1, width] }]);
    let (inputs, outputs) = match &*servable.model {
        Model::Network(net) => (tensors("input", net.input_dim()), tensors("output", net.output_dim())),
        _ => (json!([]), json!([])),
    };
    let body = json!({
        "name": servable.name, "versions": [servable.version.to_string()], "platform": "oximl",
        "inputs": inputs, "outputs": outputs, "parameters": servable.model.describe(),
    });
    Served { model: servable.name.clone(), version: servable.version.to_string(), endpoint: "metadata" }
        .label(Json(body))
}

/// `GET /v2/models/{name}[/versions/{version}]/ready`.
pub(crate) async fn model_ready(state: AppState, Path(path): Path<ModelPath>) -> Response {
    match state.0.servable(&path.name, path.version.as_deref()) {
        Ok(s) => Served { model: s.name.clone(), version: s.version.to_string(), endpoint: "ready" }
            .label(Json(json!({ "name": s.name, "ready": true }))),
        Err(e) => e.into_response(),
    }
}

/// `POST /v2/models/{name}[/versions/{version}]/infer`: one FP32 (or other numeric) input of shape
/// `[rows, input width]`, one FP32 output `output`.
pub(crate) async fn infer(
    state: AppState,
    Path(path): Path<ModelPath>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let servable = match state.0.servable(&path.name, path.version.as_deref()) {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    let served = Served { model: servable.name.clone(), version: servable.version.to_string(), endpoint: "infer" };
    let answer = async {
        let request: InferRequest = serde_json::from_slice(&body?)?;
        let Model::Network(net) = &*servable.model else { return Err(servable.model.refuse(&servable.name, "infer")) };
        let [input] = <[InputTensor; 1]>::try_from(request.inputs)
            .map_err(|v| ApiError::bad_request(format!("the model takes one input tensor, got {}", v.len())))?;
        if !NUMERIC.contains(&input.datatype.as_str()) {
            return Err(ApiError::bad_request(format!(
                "input `{}`: datatype {} is not supported, use FP32",
                input.name, input.datatype
            )));
        }
        let rows = match input.shape.as_slice() {
            [rows, width] if *width == net.input_dim() => *rows,
            _ => {
                return Err(ApiError::bad_request(format!(
                    "input `{}`: shape {:?} is not [rows, {}]",
                    input.name,
                    input.shape,
                    net.input_dim()
                )));
            }
        };
        let Flat(data) = input.data;
        if data.len() != rows * net.input_dim() {
            return Err(ApiError::bad_request(format!(
                "input `{}`: shape {:?} needs {} values, data has {}",
                input.name,
                input.shape,
                rows * net.input_dim(),
                data.len()
            )));
        }
        let x =
            Array2::from_shape_vec((rows, net.input_dim()), data).map_err(|e| ApiError::bad_request(e.to_string()))?;
        let out = servable.predict(x).await?;
        let shape = [out.nrows(), out.ncols()];
        Ok(Json(InferResponse {
            model_name: servable.name.clone(),
            model_version: servable.version.to_string(),
            id: request.id,
            outputs: [OutputTensor { name: "output", shape, datatype: "FP32", data: out.into_raw_vec_and_offset().0 }],
        })
        .into_response())
    };
    served.label(answer.await.unwrap_or_else(IntoResponse::into_response))
}
