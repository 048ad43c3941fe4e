//! The real server on an ephemeral 127.0.0.1 port, called over HTTP: every endpoint of both protocols against the
//! model's own answers, every error status, batching, hot swap under load, graceful shutdown, metrics.

mod common;

use common::*;
use oximl_core::Persist;
use oximl_core::embed::Embedder;
use oximl_serve::Config;
use serde_json::json;
use std::time::Duration;

fn close(a: &ndarray::Array2<f32>, b: &ndarray::Array2<f32>) -> bool {
    a.dim() == b.dim() && a.iter().zip(b).all(|(x, y)| (x - y).abs() <= 1e-5 * (1.0 + y.abs()))
}

/// A config serving a network (version 1 of a base directory), a recommender and embeddings (files).
fn three_models(what: &str) -> (Config, std::path::PathBuf) {
    let dir = temp_dir(what);
    let base = dir.join("net");
    std::fs::create_dir_all(&base).unwrap();
    publish(&base, 1, |p| network(1.0).save(p).unwrap());
    let recs = save(&recommender(), &dir, "recs");
    let words = save(&embeddings(), &dir, "words");
    let config = Config::new([("net", base), ("recs", recs), ("words", words)]).unwrap();
    (config, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tensorflow_serving_rest_answers_as_the_model() {
    let (config, _) = three_models("tf");
    let server = start(config).await;
    let c = reqwest::Client::new();
    let b = &server.base;
    let x = rows(3);
    let want = network(1.0).predict(x.view()).unwrap();

    let (s, v) = post(&c, format!("{b}/v1/models/net:predict"), &json!({ "instances": json_rows(&x) })).await;
    assert_eq!(s, 200, "{v}");
    assert!(close(&matrix(&v["predictions"]), &want));
    let (s, v) = post(&c, format!("{b}/v1/models/net/versions/1:predict"), &json!({ "inputs": json_rows(&x) })).await;
    assert_eq!(s, 200, "{v}");
    assert!(close(&matrix(&v["outputs"]), &want));
    let body = json!({ "signature_name": "serving_default", "inputs": { "input": json_rows(&x) } });
    let (s, v) = post(&c, format!("{b}/v1/models/net:predict"), &body).await;
    assert_eq!(s, 200, "{v}");
    assert!(close(&matrix(&v["outputs"]), &want));

    let (s, v) = get(&c, format!("{b}/v1/models/net")).await;
    assert_eq!(
        (s, &v["model_version_status"][0]["version"], &v["model_version_status"][0]["state"]),
        (200, &json!("1"), &json!("AVAILABLE"))
    );
    let (s, v) = get(&c, format!("{b}/v1/models/net/versions/1/metadata")).await;
    assert_eq!(s, 200);
    let sig = &v["metadata"]["signature_def"]["signature_def"]["serving_default"];
    assert_eq!(sig["inputs"]["input"]["tensor_shape"]["dim"][1]["size"], json!(WIDTH.to_string()));
    assert_eq!(sig["outputs"]["output"]["tensor_shape"]["dim"][1]["size"], json!("3"));

    // Recommenders: known user, folded-in ratings, similar items; the same lists as the model's.
    let m = recommender();
    let ids = |v: &serde_json::Value| -> Vec<String> {
        v["results"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().to_string()).collect()
    };
    let (s, v) = post(&c, format!("{b}/v1/models/recs:recommend"), &json!({ "user": "ann", "k": 2 })).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(ids(&v), m.recommend_ids("ann", 2, true).unwrap().into_iter().map(|r| r.0).collect::<Vec<_>>());
    let body = json!({ "ratings": [["tea", 5.0]], "k": 3, "exclude_seen": false });
    let (s, v) = post(&c, format!("{b}/v1/models/recs:recommend"), &body).await;
    assert_eq!(s, 200, "{v}");
    let folded = m.fold_in(&[("tea", 5.0)]).unwrap();
    assert_eq!(
        ids(&v),
        m.recommend_folded_ids(&folded, 3, false).unwrap().into_iter().map(|r| r.0).collect::<Vec<_>>()
    );
    let (s, v) = post(&c, format!("{b}/v1/models/recs:similar"), &json!({ "item": "tea", "k": 2 })).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(ids(&v), m.similar_items_ids("tea", 2).unwrap().into_iter().map(|r| r.0).collect::<Vec<_>>());
    let (_, v) = get(&c, format!("{b}/v1/models/recs/metadata")).await;
    assert_eq!(v["oximl"]["sizes"]["users"], json!(3));

    // Embeddings: sentence vectors (null for a text without a known word) and neighbours.
    let kv = embeddings();
    let (s, v) =
        post(&c, format!("{b}/v1/models/words:embed"), &json!({ "instances": ["king and queen", "zzz"] })).await;
    assert_eq!(s, 200, "{v}");
    let want = Embedder::new(&kv).embed_text("king and queen").unwrap().unwrap();
    let got: Vec<f32> = serde_json::from_value(v["predictions"][0].clone()).unwrap();
    assert_eq!(got, want.to_vec());
    assert!(v["predictions"][1].is_null());
    let (s, v) = post(&c, format!("{b}/v1/models/words:similar"), &json!({ "word": "king", "k": 1 })).await;
    assert_eq!((s, &v["results"][0]["id"]), (200, &json!("queen")));
    let (s, v) = post(&c, format!("{b}/v1/models/words:similar"), &json!({ "vector": [0.0, 1.0, 0.3], "k": 1 })).await;
    assert_eq!((s, &v["results"][0]["id"]), (200, &json!("apple")));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kserve_v2_answers_as_the_model() {
    let (config, _) = three_models("v2");
    let server = start(config).await;
    let c = reqwest::Client::new();
    let b = &server.base;
    for path in
        ["/v2/health/live", "/v2/health/ready", "/v2/models/net/ready", "/v2/models/net/versions/1/ready", "/v2"]
    {
        assert_eq!(get(&c, format!("{b}{path}")).await.0, 200, "{path}");
    }
    let (s, v) = get(&c, format!("{b}/v2/models/net")).await;
    assert_eq!((s, &v["inputs"][0]["shape"], &v["outputs"][0]["datatype"]), (200, &json!([-1, WIDTH]), &json!("FP32")));

    let x = rows(2);
    let want = network(1.0).predict(x.view()).unwrap();
    let flat: Vec<f32> = x.iter().copied().collect();
    for data in [json!(flat), json_rows(&x)] {
        let body = json!({ "id": "r1", "inputs": [{ "name": "input", "shape": [2, WIDTH], "datatype": "FP32", "data": data }] });
        let (s, v) = post(&c, format!("{b}/v2/models/net/infer"), &body).await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(
            (&v["id"], &v["model_version"], &v["outputs"][0]["shape"]),
            (&json!("r1"), &json!("1"), &json!([2, 3]))
        );
        let got: Vec<f32> = serde_json::from_value(v["outputs"][0]["data"].clone()).unwrap();
        assert!(close(&ndarray::Array2::from_shape_vec((2, 3), got).unwrap(), &want));
    }

    let infer = |shape: serde_json::Value, datatype: &str, data: serde_json::Value| json!({ "inputs": [{ "name": "input", "shape": shape, "datatype": datatype, "data": data }] });
    let cases = [
        (infer(json!([1, WIDTH]), "BYTES", json!([1, 2, 3, 4])), "datatype BYTES"),
        (infer(json!([1, 5]), "FP32", json!([1, 2, 3, 4, 5])), "is not [rows, 4]"),
        (infer(json!([2, WIDTH]), "FP32", json!([1, 2, 3, 4])), "needs 8 values, data has 4"),
        (infer(json!([1, WIDTH]), "FP32", json!(["a", 2, 3, 4])), "malformed JSON"),
        (json!({ "inputs": [] }), "one input tensor, got 0"),
    ];
    for (body, message) in cases {
        let (s, v) = post(&c, format!("{b}/v2/models/net/infer"), &body).await;
        assert_eq!(s, 400, "{body}");
        assert!(v["error"].as_str().unwrap().contains(message), "{v} lacks {message}");
    }
    assert_eq!(
        post(&c, format!("{b}/v2/models/nope/infer"), &infer(json!([1, WIDTH]), "FP32", json!([1, 2, 3, 4]))).await.0,
        404
    );
    assert_eq!(get(&c, format!("{b}/v2/models/net/versions/9")).await.0, 404);
    assert_eq!(post(&c, format!("{b}/v2/models/recs/infer"), &infer(json!([1, 1]), "FP32", json!([1]))).await.0, 400);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_have_tensorflow_serving_statuses_and_name_the_problem() {
    let (mut config, _) = three_models("errors");
    config.max_body_bytes = 1000;
    let server = start(config).await;
    let c = reqwest::Client::new();
    let b = &server.base;
    let one = json!({ "instances": json_rows(&rows(1)) });
    let cases: Vec<(String, serde_json::Value, u16, &str)> = vec![
        (format!("{b}/v1/models/nope:predict"), one.clone(), 404, "Servable not found"),
        (format!("{b}/v1/models/net/versions/2:predict"), one.clone(), 404, "Specific(net, 2)"),
        (format!("{b}/v1/models/net:predict"), json!({ "instances": [[1.0, 2.0]] }), 400, "4 values"),
        (
            format!("{b}/v1/models/net:predict"),
            json!({ "instances": [[1.0, 2.0, 3.0, 4.0], [1.0]] }),
            400,
            "row 1 has 1 values",
        ),
        (format!("{b}/v1/models/net:predict"), json!({ "instances": [["a", 1, 2, 3]] }), 400, "malformed JSON"),
        (format!("{b}/v1/models/net:predict"), json!({ "rows": [] }), 400, "unknown field `rows`"),
        (format!("{b}/v1/models/net:predict"), json!({}), 400, "exactly one of"),
        (format!("{b}/v1/models/net:predict"), json!({ "signature_name": "x", "instances": [] }), 400, "signature `x`"),
        (format!("{b}/v1/models/net:recommend"), json!({ "user": "ann" }), 400, "answers :predict"),
        (format!("{b}/v1/models/recs:recommend"), json!({ "user": "nobody" }), 400, "nobody"),
        (format!("{b}/v1/models/recs:predict"), one.clone(), 400, "answers :recommend, :similar"),
        (format!("{b}/v1/models/words:similar"), json!({ "word": "zzz" }), 400, "zzz"),
        (format!("{b}/v1/models/net:predict"), json!({ "instances": vec![vec![1.0; 4]; 100] }), 413, "length limit"),
        (format!("{b}/v1/models/net:explode"), one.clone(), 400, "not :explode"),
        (format!("{b}/v1/models/net/what/ever:predict"), one.clone(), 404, "no such endpoint"),
        (format!("{b}/v3/nothing"), one.clone(), 404, "no such endpoint"),
    ];
    for (url, body, status, message) in cases {
        let (s, v) = post(&c, url.clone(), &body).await;
        assert_eq!(s, status, "{url} {v}");
        assert!(v["error"].as_str().is_some_and(|e| e.contains(message)), "{url}: {v} lacks {message}");
    }
    let response = c.post(format!("{b}/v1/models/net:predict")).body("{not json").send().await.unwrap();
    assert_eq!(response.status().as_u16(), 400);
    server.shutdown().await;
}

/// Concurrent requests are merged into batches, and each gets its own rows' predictions back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_predicts_are_batched_and_split_back() {
    let (mut config, _) = three_models("batch");
    config.batch_timeout_micros = 50_000;
    config.max_batch_size = 16;
    let server = start(config).await;
    let c = reqwest::Client::new();
    let all = rows(40);
    let want = network(1.0).predict(all.view()).unwrap();
    let calls = (0..40).map(|i| {
        let (c, url) = (c.clone(), format!("{}/v1/models/net:predict", server.base));
        let body = json!({ "instances": json_rows(&all.slice(ndarray::s![i..i + 1, ..]).to_owned()) });
        tokio::spawn(async move { post(&c, url, &body).await })
    });
    for (i, call) in calls.collect::<Vec<_>>().into_iter().enumerate() {
        let (s, v) = call.await.unwrap();
        assert_eq!(s, 200, "{v}");
        assert!(close(&matrix(&v["predictions"]), &want.slice(ndarray::s![i..i + 1, ..]).to_owned()), "request {i}");
    }
    let text = c.get(format!("{}/metrics", server.base)).send().await.unwrap().text().await.unwrap();
    let batches = sample(&text, "oximl_batch_size_count", &["model=\"net\""]).unwrap();
    let rows_total = sample(&text, "oximl_batch_size_sum", &["model=\"net\""]).unwrap();
    assert_eq!(rows_total, 40.0);
    assert!((3.0..40.0).contains(&batches), "{batches} batches for 40 requests of one row (at most 16 rows each)");
    server.shutdown().await;
}

/// A new version is swapped in while clients call without pause: no request fails, each answer is one version's,
/// and a broken newer version is refused (logged, counted) while the good one keeps serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_swap_under_load_without_a_failed_request() {
    let (mut config, dir) = three_models("swap");
    config.poll_seconds = 1;
    let server = start(config).await;
    let x = rows(2);
    let (v1, v2) = (network(1.0).predict(x.view()).unwrap(), network(-2.0).predict(x.view()).unwrap());
    let body = json!({ "instances": json_rows(&x) });
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let clients: Vec<_> = (0..8)
        .map(|_| {
            let (c, url, body, stop) =
                (reqwest::Client::new(), format!("{}/v1/models/net:predict", server.base), body.clone(), stop.clone());
            let (v1, v2) = (v1.clone(), v2.clone());
            tokio::spawn(async move {
                let (mut n, mut seen_v2) = (0, false);
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    let (s, v) = post(&c, url.clone(), &body).await;
                    assert_eq!(s, 200, "request {n} failed during the swap: {v}");
                    let got = matrix(&v["predictions"]);
                    assert!(!seen_v2 || close(&got, &v2), "an answer of version 1 after one of version 2");
                    seen_v2 |= close(&got, &v2);
                    assert!(seen_v2 || close(&got, &v1), "an answer of neither version");
                    n += 1;
                }
                (n, seen_v2)
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    publish(&dir.join("net"), 2, |p| network(-2.0).save(p).unwrap());
    tokio::time::sleep(Duration::from_millis(2500)).await;
    publish(&dir.join("net"), 3, |p| std::fs::write(p, b"not a model").unwrap());
    tokio::time::sleep(Duration::from_millis(2500)).await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut total = 0;
    for client in clients {
        let (n, seen_v2) = client.await.unwrap();
        assert!(seen_v2, "a client never saw version 2");
        total += n;
    }
    assert!(total > 100, "only {total} requests");
    let c = reqwest::Client::new();
    let (_, v) = get(&c, format!("{}/v1/models/net", server.base)).await;
    assert_eq!(v["model_version_status"][0]["version"], json!("2"));
    let text = c.get(format!("{}/metrics", server.base)).send().await.unwrap().text().await.unwrap();
    assert_eq!(sample(&text, "oximl_model_load_failures_total", &["model=\"net\""]), Some(1.0));
    assert_eq!(sample(&text, "oximl_model_version", &["model=\"net\""]), Some(2.0));
    let ok = sample(&text, "oximl_requests_total", &["model=\"net\"", "endpoint=\"predict\"", "status=\"200\""]);
    assert_eq!(ok, Some(total as f64), "{text}");
    server.shutdown().await;
}

/// A handler with a bug.
async fn boom() -> &'static str {
    panic!("boom")
}

/// Shutdown lets the request in flight finish, then the port is closed; overload is a 503, a slow request a 504,
/// a panic a 500 that the metrics count.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_panics_and_graceful_shutdown() {
    let (mut config, _) = three_models("limits");
    config.max_batch_size = 64;
    config.batch_timeout_micros = 400_000; // a lone predict waits 0.4 s for company
    config.max_in_flight = 1;
    config.timeout_ms = 1_000;
    let panicking = axum::Router::new().route("/panic", axum::routing::get(boom));
    let server = start_with(config.clone(), panicking).await;
    let c = reqwest::Client::new();
    let url = format!("{}/v1/models/net:predict", server.base);
    let body = json!({ "instances": json_rows(&rows(1)) });
    let slow = tokio::spawn({
        let (c, url, body) = (c.clone(), url.clone(), body.clone());
        async move { post(&c, url, &body).await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (s, v) = post(&c, url.clone(), &body).await;
    assert_eq!(s, 503, "{v}");
    assert!(v["error"].as_str().unwrap().contains("overloaded"));
    assert_eq!(slow.await.unwrap().0, 200);
    assert_eq!(get(&c, format!("{}/panic", server.base)).await.0, 500);
    assert_eq!(get(&c, format!("{}/v2/health/live", server.base)).await.0, 200, "the server survives a panic");
    let text = c.get(format!("{}/metrics", server.base)).send().await.unwrap().text().await.unwrap();
    assert_eq!(sample(&text, "oximl_panics_total", &[]), Some(1.0));
    assert_eq!(sample(&text, "oximl_requests_total", &["status=\"503\""]), Some(1.0));
    assert_eq!(sample(&text, "oximl_requests_total", &["model=\"\"", "status=\"500\""]), Some(1.0));
    assert!(sample(&text, "oximl_process_resident_memory_bytes", &[]).unwrap() > 1e6);
    assert!(
        sample(&text, "oximl_request_duration_seconds_count", &["model=\"net\"", "endpoint=\"predict\""]).unwrap()
            >= 1.0
    );

    // Graceful shutdown: a request in flight (waiting in its batch) still gets its answer.
    let base = server.base.clone();
    let in_flight = tokio::spawn({
        let (c, url, body) = (c.clone(), url.clone(), body.clone());
        async move { post(&c, url, &body).await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    server.shutdown().await;
    assert_eq!(in_flight.await.unwrap().0, 200);
    assert!(reqwest::Client::new().get(format!("{base}/v2/health/live")).send().await.is_err(), "still listening");

    // The per-request timeout: 504.
    config.timeout_ms = 100;
    let server = start(config).await;
    let (s, v) = post(&c, format!("{}/v1/models/net:predict", server.base), &body).await;
    assert_eq!(s, 504, "{v}");
    server.shutdown().await;
}
