//! `oximl prune`: a network file pruned by weight magnitude (see `Sequential::prune`).

use clap::Args;
use oximl_core::compress::PruneConfig;
use oximl_core::nn::Sequential;
use oximl_core::{Error, Persist, Result};
use std::path::PathBuf;

/// Prune a network: zero its smallest weights.
///
/// One-shot magnitude pruning of the Dense kernels (biases are kept), over all of them together (global) or
/// layer by layer. The output stores the pruned kernels sparse and keeps the mask, so that fitting the file
/// later (fine-tuning) keeps the zeros; quantize it afterwards if wanted.
///
/// Example:
///   oximl prune model.oximl model-80.oximl --sparsity 0.8
///   oximl prune model.oximl model-50.oximl --sparsity 0.5 --scope layer --layers 0,2
#[derive(Args)]
#[command(verbatim_doc_comment)]
pub struct Prune {
    /// The network to read (oximl, ONNX or Keras).
    input: PathBuf,
    /// Where to write the pruned network (replaced atomically).
    output: PathBuf,
    /// The fraction of weights to zero, in [0, 1).
    #[arg(long)]
    sparsity: f64,
    /// `global` (the smallest weights of all pruned layers together) or `layer` (that fraction of each).
    #[arg(long, default_value = "global")]
    scope: String,
    /// The Dense layers to prune, by index in the model (all of them if omitted).
    #[arg(long, value_delimiter = ',')]
    layers: Option<Vec<usize>>,
}

impl Prune {
    /// Loads the network, prunes it and saves it.
    pub fn run(&self) -> Result<()> {
        // The core owns the names of the scopes: the options go through its config's parser.
        let json = serde_json::json!({ "sparsity": self.sparsity, "scope": self.scope, "layers": self.layers });
        let config: PruneConfig = serde_json::from_value(json)
            .map_err(|e| Error::invalid("scope", format!("{e} (expected global or layer)")))?;
        let mut model = Sequential::load(&self.input)?;
        model.prune(&config)?;
        model.save(&self.output)
    }
}
