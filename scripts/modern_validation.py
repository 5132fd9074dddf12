#!/usr/bin/env python3
"""Writes scenarios/validation/modern/: one scenario per public row of
shared/reference/modern-runs.yaml, with the model shape of modern-models.yaml
and the measured tokens/s per GPU.

A developer tool, run by hand when the reference set changes (needs PyYAML);
the scenarios it writes are committed, and nothing in the build or the tests
runs it. Every knob comes from the row or its recipe; nothing is tuned here.

    python3 scripts/modern_validation.py ../shared/reference scenarios/validation/modern
"""
import os
import re
import sys

import yaml

SYSTEMS = {
    "DGX-H100": "dgx-h100",
    "DGX-B200": "dgx-b200",
    "DGX-GB200": "gb200-nvl72",
    "TPU v5e": "tpu-v5e-pod",
    "TPU v5p": "tpu-v5p-pod",
}

# Published precision label -> (training.precision, recipe field, recipe).
PRECISIONS = {
    "BF16": ("bf16", None, None),
    "FP8": ("fp8", "fp8_recipe", "tensorwise"),
    "FP8-CS": ("fp8", "fp8_recipe", "tensorwise"),
    "MXFP8": ("fp8", "fp8_recipe", "mxfp8"),
    "FP8-MX": ("fp8", "fp8_recipe", "mxfp8"),
    "NVFP4": ("fp4", "fp4_recipe", "nvfp4"),
}

RECOMPUTE = {"none": "none", "selective": "selective", "full": "full"}


def tokens_per_s(row):
    m = row["measured"]
    return m.get("tokens_per_s_per_gpu") or m.get("tokens_per_s_per_gpu_derived")


def cuda_graphs(recipe):
    impl = (recipe or {}).get("cuda_graph_impl")
    if impl in (None, "none"):
        return None
    scope = str(recipe.get("cuda_graph_scope", ""))
    return "full" if scope == "full_iteration" else "partial"


# Models whose catalog preset describes them better than modern-models.yaml's
# shape can (MLA, MTP, sliding windows): the preset, with the row's sequence.
PRESETS = {"deepseek-v3", "kimi-k2", "qwen3-30b-a3b", "qwen3-235b-a22b", "gpt-oss-120b", "nemotron-3-nano"}
# What a preset still leaves out.
PRESET_GAPS = {"gpt-oss-120b": "; the QKV bias is not modelled"}


# Megatron-Bridge's DeepSeek-V3 recipe (recipes/deepseek/deepseek_v3.py)
# sets a pipeline layout per (pp, vpp): decoder layers per virtual stage, the
# embedding with the first, the MTP layer and the loss with the last (which
# therefore holds fewer decoder layers).
DEEPSEEK_V3_CHUNKS = {
    (4, 1): [16, 16, 16, 13],
    (8, 1): [8] * 7 + [5],
    (4, 2): [8] * 7 + [5],
    (16, 1): [4] * 15 + [1],
    (8, 2): [4] * 15 + [1],
    (4, 4): [4] * 15 + [1],
}


# The 25.09 table was run with the token-drop era's performance scripts, not
# the 26.04.01 snapshot the rows' `recipe` blocks record. In Megatron-Bridge
# at 27dfb3df (scripts/performance/run_script.py and configs/deepseek,
# configs/qwen3/qwen3_235b_a22b_llm_pretrain.py) and 4054233a
# (configs/qwen3/qwen3_30b_a3b_llm_pretrain.py) each config's layout and
# batch match the 25.09 row and its token-drop defaults match the table's
# 'tokendrop'/'dropless' labels: DeepSeek-V3 drops tokens on B200 and GB200
# (DeepEP off, MLA up-projections recomputed) and on H100 runs dropless with
# DeepEP and the 1F1B all-to-all overlap; Qwen3-30B-A3B captures the whole
# iteration in CUDA graphs on B200 and GB200 (static shapes under token
# drop); Qwen3-235B-A22B on H100 and B200 sets none of the snapshot's knobs.
# Where a 25.09 row is listed here, these knobs replace its recipe block's.
RELEASE_KNOBS = {
    ("25.09", "deepseek-v3", "DGX-H100"): {
        "recompute_modules": ["mla_up_proj", "mlp"],
        "moe_flex_dispatcher_backend": "deepep",
        "moe_a2a_overlap": True,
        "pp_layout": "Et|(tt|)*30mL",
    },
    ("25.09", "deepseek-v3", "DGX-B200"): {"recompute_modules": ["mla_up_proj"]},
    ("25.09", "deepseek-v3", "DGX-GB200"): {"recompute_modules": ["mla_up_proj"]},
    ("25.09", "qwen3-30b-a3b", "DGX-B200"): {"cuda_graph_impl": "local", "cuda_graph_scope": "full_iteration"},
    ("25.09", "qwen3-30b-a3b", "DGX-GB200"): {"cuda_graph_impl": "local", "cuda_graph_scope": "full_iteration"},
    ("25.09", "qwen3-30b-a3b", "DGX-H100"): {},
    ("25.09", "qwen3-235b-a22b", "DGX-H100"): {},
    ("25.09", "qwen3-235b-a22b", "DGX-B200"): {},
}


def recipe_knobs(row):
    """The recipe knobs the row ran with, and a note when they are not the
    row's recorded recipe block."""
    release = str((row.get("source") or {}).get("release", ""))
    key = (release, row["model"], row["system"])
    if key in RELEASE_KNOBS:
        return dict(RELEASE_KNOBS[key]), f"recipe: the {release} performance scripts (RELEASE_KNOBS in scripts/modern_validation.py), not the 26.04.01 snapshot"
    return dict(row.get("recipe") or {}), None


def layout_chunks(layout):
    """Decoder layers per virtual stage of a Megatron pipeline layout string
    ("Et|(tt|)*30mL": 't' a decoder layer, '|' a stage boundary)."""
    while "(" in layout:
        layout = re.sub(r"\(([^()]*)\)\*(\d+)", lambda m: m.group(1) * int(m.group(2)), layout)
    return [chunk.count("t") for chunk in layout.split("|")]


def stage_layers(row, recipe):
    """Decoder layers per pipeline rank under the recipe's layout (virtual
    stage c runs on rank c mod pp), or None where the recipe sets none."""
    pp, vp = row["pp"], row.get("vpp") or 1
    if recipe.get("pp_layout"):
        chunks = layout_chunks(str(recipe["pp_layout"]))
    elif row["model"] == "deepseek-v3" and (pp, vp) in DEEPSEEK_V3_CHUNKS:
        chunks = DEEPSEEK_V3_CHUNKS[(pp, vp)]
    else:
        return None
    if pp <= 1 or len(chunks) != pp * vp:
        return None
    return [sum(chunks[c] for c in range(s, len(chunks), pp)) for s in range(pp)]


def mtp_layers(row):
    if row.get("mtp") is not None:
        return int(row["mtp"])
    # The published label decides; without one, a note may infer MTP from
    # the published FLOPs per token (such a note also names the 'w/o MTP'
    # rows it differs from, so it is read first).
    label = row.get("model_published") or ""
    if "(w/o MTP)" in label:
        return 0
    if "(w/ MTP)" in label:
        return 1
    notes = " ".join(row.get("notes") or [])
    if "MTP inferred" in notes:
        return 1
    if "'w/o MTP'" in notes:
        return 0
    if "'w/ MTP'" in notes:
        return 1
    return None


def scenario(row, shape):
    tpu = row["system"].startswith("TPU")
    gpus = row.get("gpus") or row.get("chips")
    prec, recipe_key, recipe = PRECISIONS[row["precision"]]
    if row["model"] in PRESETS:
        model = {"preset": row["model"]}
        if mtp_layers(row) is not None:
            model["mtp_layers"] = mtp_layers(row)
    else:
        model = dict(shape)
    model["seq_len"] = row["seq_len"]
    if row.get("moe_routing") == "token-drop":
        model["moe"] = {"token_drop": True}
    par = {"tp": row["tp"], "pp": row["pp"]}
    if row.get("cp", 1) > 1:
        par["cp"] = row["cp"]
    if row.get("ep") and row["ep"] > 1:
        par["ep"] = row["ep"]
        if not tpu and row["tp"] > 1:
            par["etp"] = 1  # the Megatron-Bridge MoE recipes: expert_tensor_parallel_size 1
    if row.get("vpp") and row["vpp"] > 1:
        par["vpp"] = row["vpp"]
    training = {"precision": prec}
    if recipe_key:
        training[recipe_key] = recipe
    training["global_batch"] = row["global_batch"]
    training["micro_batch"] = row["micro_batch"]
    training["parallelism"] = par
    # fsdp > 0: fully sharded (ZeRO-3 class); otherwise Megatron's distributed
    # optimizer (ZeRO-1 class). MaxText shards within a slice and replicates
    # across slices; danlu shards over all of dp (noted in the row).
    training["zero"] = 3 if row.get("fsdp") else 1
    recompute = RECOMPUTE.get(row.get("recompute") or "none", "selective")
    if row.get("remat_policy") in ("minimal", "save_dot_except_mlpwi"):
        recompute = "selective"
    training["recompute"] = recompute
    recipe_block, _ = recipe_knobs(row)
    # The recipe's own recompute_modules replace Megatron's default
    # (core_attn).
    if recompute == "selective" and recipe_block.get("recompute_modules"):
        training["recompute_modules"] = list(recipe_block["recompute_modules"])
    if recompute == "full" and recipe_block.get("recompute_num_layers"):
        training["recompute_layers"] = int(recipe_block["recompute_num_layers"])
    overlap = {}
    if tpu:
        overlap["tp_comm"] = True  # XLA: async collective fusion, overlap_compute_collective_tc
    elif row.get("tp_comm_overlap"):
        overlap["tp_comm"] = True
    if recipe_block.get("moe_a2a_overlap"):
        overlap["ep_comm"] = True  # Megatron's overlap_moe_expert_parallel_comm
    if overlap:
        training["overlap"] = overlap
    # DeepEP-class dispatchers are dropless: the scripts turn them off under
    # token drop ("Using token drop, disabling DeepEP").
    token_drop = row.get("moe_routing") == "token-drop"
    if not token_drop and recipe_block.get("moe_flex_dispatcher_backend") in ("hybridep", "deepep"):
        training["ep_dispatch"] = "hierarchical"
    graphs = cuda_graphs(recipe_block)
    if graphs:
        training["cuda_graphs"] = graphs
    if recipe_block.get("cpu_offloading_num_layers"):
        training["offload_activations"] = int(recipe_block["cpu_offloading_num_layers"])
    # A recipe's pipeline layout places the layers itself; otherwise
    # Megatron's account-for-embedding/loss gives the embedding and the loss a
    # layer's place each.
    layers = stage_layers(row, recipe_block)
    if layers:
        training["stage_layers"] = layers
    elif any("account_for_embedding_in_pipeline_split" in n for n in row.get("notes") or []):
        training["pipeline_split"] = {"embedding": True, "loss": True}
    cluster = {"system": SYSTEMS[row["system"]], "gpus": gpus}
    slice_note = [n for n in row.get("notes") or [] if "slice(s)" in n]
    if tpu and row.get("slice"):
        # "2x v5e-256": slices joined over the data-centre network.
        count, _, name = row["slice"].partition("x ")
        slices = int(count)
        if slices > 1:
            cluster["scale_up_domain"] = gpus // slices
    src = row.get("source") or {}
    where = ", ".join(str(src[k]) for k in ("repo", "file", "release", "section") if src.get(k))
    if src.get("line"):
        where += f", line {src['line']}"
    measured = {"tokens_per_s_per_gpu": tokens_per_s(row), "source": where}
    return {
        "name": row["id"],
        "description": f"{row['model']} on {gpus} x {row['system']}, {row['precision']} (published)",
        "model": model,
        "cluster": cluster,
        "training": training,
        "measured": measured,
    }, slice_note


def main(ref_dir, out_dir):
    rows = yaml.safe_load(open(os.path.join(ref_dir, "modern-runs.yaml")))
    models = yaml.safe_load(open(os.path.join(ref_dir, "modern-models.yaml")))
    os.makedirs(out_dir, exist_ok=True)
    written, skipped = 0, []
    for row in rows:
        entry = models.get(row["model"], {})
        # A catalog preset expresses what the shape file could not (hybrid layers).
        if (entry.get("skipped") and row["model"] not in PRESETS) or not row.get("global_batch") or not tokens_per_s(row):
            skipped.append((row["id"], entry.get("reason", "no batch or throughput published")))
            continue
        sc, _ = scenario(row, entry.get("model", {}))
        notes = [f"# {row['id']}: generated by scripts/modern_validation.py from the collection of published runs (modern-runs.yaml)"]
        for n in row.get("notes") or []:
            notes.append("#   " + n.replace("\n", " "))
        _, knobs_note = recipe_knobs(row)
        if knobs_note:
            notes.append("#   " + knobs_note)
        if row["model"] in PRESETS:
            # The shape file's approximation describes what it could not
            # express; the preset expresses it (MLA, MTP, sliding windows).
            notes.append(f"# model: danlu's catalog preset {row['model']} (`danlu catalog models {row['model']}`)"
                         + PRESET_GAPS.get(row["model"], ""))
        elif entry.get("approximation"):
            notes.append("# model: " + entry["approximation"].replace("\n", " "))
        body = yaml.safe_dump(sc, sort_keys=False, default_flow_style=None, width=120)
        with open(os.path.join(out_dir, row["id"] + ".yaml"), "w") as f:
            f.write("\n".join(notes) + "\n" + body)
        written += 1
    with open(os.path.join(out_dir, "SKIPPED.md"), "w") as f:
        f.write("# Rows of modern-runs.yaml with no scenario here\n\n")
        f.write("The model's shape was never published or has layers danlu cannot describe, or the row\n")
        f.write("publishes no batch or throughput. Counted in no table.\n\n")
        for rid, why in skipped:
            f.write(f"- `{rid}`: {why}\n")
    print(f"wrote {written} scenarios, skipped {len(skipped)}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
