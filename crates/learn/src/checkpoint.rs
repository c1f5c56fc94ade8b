//! Checkpoints: a network's weights in the safetensors format, self-describing.
//!
//! Each parameter is stored as an f32 tensor under its name (`conv1.weight`, `policy.bias`, ...);
//! the file's metadata holds one key, `cruxlab`, whose value is the JSON object
//! `{"net": NetConfig, "input": InputShape}`, so [`load`] rebuilds the network without being told
//! what it is (one key, so that the header, and with it the file, is the same bytes every time). Files are written to a temporary name and renamed, so a checkpoint on disk is always whole.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{Device, Tensor};
use safetensors::{Dtype, SafeTensors};

use crate::net::{ActorCritic, InputShape, NetConfig};

const KEY: &str = "cruxlab";

#[derive(serde::Serialize, serde::Deserialize)]
struct Header {
    net: NetConfig,
    input: InputShape,
}

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("not a readable safetensors file: {0}")]
    Format(#[from] safetensors::SafeTensorError),
    #[error("{0}")]
    Tensor(#[from] candle_core::Error),
    #[error("metadata: {0}")]
    Metadata(String),
}

/// The file's bytes for `net`.
pub fn to_bytes(net: &ActorCritic) -> Result<Vec<u8>, CheckpointError> {
    let mut data: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    for (name, var) in net.params() {
        let values = var.as_tensor().flatten_all()?.to_vec1::<f32>()?;
        let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        data.push((name, var.dims().to_vec(), bytes));
    }
    let views = data
        .iter()
        .map(|(name, shape, bytes)| {
            Ok((
                name.clone(),
                safetensors::tensor::TensorView::new(Dtype::F32, shape.clone(), bytes)?,
            ))
        })
        .collect::<Result<Vec<_>, safetensors::SafeTensorError>>()?;
    let header = Header {
        net: net.config().clone(),
        input: net.input(),
    };
    let meta = HashMap::from([(
        KEY.to_string(),
        serde_json::to_string(&header).expect("a header serializes"),
    )]);
    Ok(safetensors::serialize(views, Some(meta))?)
}

/// Write `net` to `path` atomically (temporary file, then rename).
pub fn save(net: &ActorCritic, path: &Path) -> Result<(), CheckpointError> {
    let bytes = to_bytes(net)?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    std::fs::write(&tmp, &bytes)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// Rebuild a network from checkpoint bytes.
pub fn from_bytes(bytes: &[u8]) -> Result<ActorCritic, CheckpointError> {
    let (_, meta) = SafeTensors::read_metadata(bytes)?;
    let info = meta
        .metadata()
        .as_ref()
        .ok_or_else(|| CheckpointError::Metadata("no cruxlab metadata".into()))?;
    let text = info
        .get(KEY)
        .ok_or_else(|| CheckpointError::Metadata(format!("missing '{KEY}'")))?;
    let header: Header =
        serde_json::from_str(text).map_err(|e| CheckpointError::Metadata(format!("{KEY}: {e}")))?;
    let net = ActorCritic::new(&header.net, header.input, 0)?;
    let file = SafeTensors::deserialize(bytes)?;
    let mut tensors = HashMap::new();
    for (name, view) in file.tensors() {
        if view.dtype() != Dtype::F32 {
            return Err(CheckpointError::Metadata(format!(
                "tensor '{name}' is not f32"
            )));
        }
        let values: Vec<f32> = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        tensors.insert(name, Tensor::from_vec(values, view.shape(), &Device::Cpu)?);
    }
    net.load_params(&tensors)?;
    Ok(net)
}

/// Read a network written by [`save`].
pub fn load(path: &Path) -> Result<ActorCritic, CheckpointError> {
    from_bytes(&std::fs::read(path)?)
}
