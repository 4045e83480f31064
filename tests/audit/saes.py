"""Existing SAEs for audit tests: a ladder trained by SAELens's own trainer on a tiny LM's activations, saved in
SAELens's format, and any SAE written again in sparsify's and dictionary_learning's on-disk formats."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import save_file

from sae.config import LLMSource
from sae.data.llm import extract_activations
from sae.data.store import ActivationStore

LADDER_K = (2, 4, 8, 16)
WIDTH = 64


def train_saelens_ladder(source: LLMSource, store_dir: Path, out: Path, model_name: str) -> list[Path]:
    """TopK SAEs at k = LADDER_K trained by `sae_lens.SAETrainer` (not ours) on `source`'s store, each saved with
    `save_inference_model` and the metadata SAELens's LLM runner writes (model, hook, context)."""
    from sae_lens import TopKTrainingSAE, TopKTrainingSAEConfig
    from sae_lens.config import LoggingConfig, SAETrainerConfig
    from sae_lens.training.sae_trainer import SAETrainer

    extract_activations(source, store_dir, progress=False)
    train = ActivationStore(store_dir).load("train")
    folders = []
    for k in LADDER_K:
        torch.manual_seed(k)
        sae = TopKTrainingSAE(TopKTrainingSAEConfig(d_in=train.shape[1], d_sae=WIDTH, k=k))
        batches = iter(train[torch.randint(0, len(train), (256,))] for _ in range(10_000))
        cfg = SAETrainerConfig(total_training_samples=256 * 40, train_batch_size_samples=256, lr=3e-3, lr_end=3e-3,
                               lr_scheduler_name="constant", device="cpu", dead_feature_window=20,
                               logger=LoggingConfig(log_to_wandb=False))
        trained = SAETrainer(cfg, sae, batches).fit()
        for key, value in {"model_name": model_name, "hook_name": f"blocks.{source.layer}.hook_resid_post",
                           "context_size": source.context_length, "prepend_bos": True}.items():
            setattr(trained.cfg.metadata, key, value)
        folders.append(out / f"topk_k{k}")
        trained.save_inference_model(folders[-1])
    return folders


def _weights(sae) -> dict[str, torch.Tensor]:
    return {"W_enc": sae.W_enc.detach(), "b_enc": sae.b_enc.detach(), "W_dec": sae.W_dec.detach(),
            "b_dec": sae.b_dec.detach()}


def write_sparsify(sae, folder: Path, layer: int) -> Path:
    """A SAELens TopK SAE as sparsify's `SparseCoder.save_to_disk` writes one: `encoder` an nn.Linear (weight
    (num_latents, d_in)), `W_dec` (num_latents, d_in), `b_dec`; cfg.json its SparseCoderConfig and d_in. The folder
    is named after the hook (`layers.<L>`), as sparsify names it."""
    w = _weights(sae)
    folder = folder / f"layers.{layer}"
    folder.mkdir(parents=True)
    save_file({"encoder.weight": w["W_enc"].T.contiguous(), "encoder.bias": w["b_enc"].contiguous(),
               "W_dec": w["W_dec"].contiguous(), "b_dec": w["b_dec"].contiguous()}, str(folder / "sae.safetensors"))
    (folder / "cfg.json").write_text(json.dumps({
        "activation": "topk", "expansion_factor": sae.cfg.d_sae // sae.cfg.d_in, "normalize_decoder": True,
        "num_latents": sae.cfg.d_sae, "k": sae.cfg.k, "multi_topk": False, "skip_connection": False,
        "transcode": False, "d_in": sae.cfg.d_in}))
    return folder


def write_dictionary_learning(sae, folder: Path, layer: int, model_name: str, context_size: int) -> Path:
    """A SAELens TopK SAE as dictionary_learning's `AutoEncoderTopK` saves one: `ae.pt` a state dict (`encoder`,
    `decoder` nn.Linear layers, `b_dec`, `k`, `threshold`) and config.json the trainer's and buffer's settings."""
    w = _weights(sae)
    folder.mkdir(parents=True)
    torch.save({"encoder.weight": w["W_enc"].T.contiguous(), "encoder.bias": w["b_enc"].contiguous(),
                "decoder.weight": w["W_dec"].T.contiguous(), "b_dec": w["b_dec"].contiguous(),
                "k": torch.tensor(sae.cfg.k), "threshold": torch.tensor(-1.0)}, folder / "ae.pt")
    (folder / "config.json").write_text(json.dumps({
        "trainer": {"dict_class": "AutoEncoderTopK", "trainer_class": "TopKTrainer", "activation_dim": sae.cfg.d_in,
                    "dict_size": sae.cfg.d_sae, "k": sae.cfg.k, "layer": layer, "lm_name": model_name},
        "buffer": {"ctx_len": context_size}}))
    return folder


def known_topk_sae(d_in: int = 8, width: int = 16, k: int = 3, seed: int = 0, hook: str = "blocks.1.hook_resid_post",
                   model_name: str = "tiny"):
    """A SAELens TopK SAE with random weights and unit decoder rows (as saved SAEs have), its metadata set."""
    from sae_lens import TopKSAE, TopKSAEConfig

    torch.manual_seed(seed)
    sae = TopKSAE(TopKSAEConfig(d_in=d_in, d_sae=width, k=k, apply_b_dec_to_input=True))
    with torch.no_grad():
        for param in sae.parameters():
            param.normal_()
        sae.W_dec /= sae.W_dec.norm(dim=1, keepdim=True)
    sae.cfg.metadata.hook_name, sae.cfg.metadata.model_name, sae.cfg.metadata.context_size = hook, model_name, 16
    return sae


def save_saelens(sae, folder: Path) -> Path:
    sae.save_model(folder)
    return folder
