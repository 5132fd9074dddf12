#include "scenario/schema.hpp"

#include <cmath>
#include <stdexcept>
#include <unordered_map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "models/hardware.hpp"
#include "models/pipeline.hpp"
#include "models/training.hpp"
#include "scenario/engine_names.hpp"
#include "scenario/scenario.hpp"
#include "topologies/registry.hpp"

namespace danlu {

namespace {

using T = FieldType;
using D = DefaultKind;
using Q = Quantity;

template <class E>
std::vector<std::string> enum_names() {
  return names_of<E>();
}
std::vector<std::string> precisions() { return precision_names(); }
std::vector<std::string> activations() { return {"swiglu", "gelu"}; }
std::vector<std::string> positions() { return {"rope", "learned"}; }

constexpr double kYear_s = 365 * 86400.0;

// The bounds below are what makes physical sense, so that a typo of a few
// orders of magnitude is refused rather than carried into every figure.
constexpr FieldDecl kSchema[] = {
    {.path = "name",
     .type = T::text,
     .kind = D::required,
     .meaning = "the scenario's name: lower-case letters, digits, '.', '_' or '-'"},
    {.path = "description", .type = T::text, .def = "", .meaning = "free text, shown in reports"},
    {.path = "extends",
     .type = T::text,
     .kind = D::absent,
     .meaning = "another scenario (path relative to this file) this one is deep-merged over"},

    {.path = "model", .type = T::block, .kind = D::required, .meaning = "what is trained"},
    {.path = "model.preset",
     .type = T::text,
     .kind = D::absent,
     .meaning = "a catalog model (`danlu catalog models`); fields given beside it override it"},
    {.path = "model.hf_config",
     .type = T::text,
     .kind = D::absent,
     .meaning = "a Hugging Face config.json (path relative to this file) read in place of a preset; fields "
                "beside it override it",
     .addition = true},
    // No trained transformer has come near 10,000 layers; the bound keeps
    // the schedules every engine expands finite.
    {.path = "model.layers", .type = T::integer, .kind = D::required, .max = 10000, .meaning = "transformer layers"},
    // The widest trained models are ~25,000 wide; a million keeps every
    // product of the schedule finite and its counts inside an int.
    {.path = "model.hidden", .type = T::integer, .kind = D::required, .max = 1'000'000, .meaning = "model width"},
    {.path = "model.ffn_hidden",
     .type = T::integer,
     .kind = D::required,
     .meaning = "FFN width of a dense layer (and of each expert unless moe.expert_ffn_hidden is given)"},
    {.path = "model.heads", .type = T::integer, .kind = D::required, .meaning = "attention (query) heads"},
    {.path = "model.kv_heads",
     .type = T::integer,
     .kind = D::derived,
     .note = "heads (multi-head attention)",
     .bound_rule = "a divisor of heads",
     .meaning = "key/value heads (GQA when fewer than heads)"},
    {.path = "model.head_dim",
     .type = T::integer,
     .kind = D::derived,
     .note = "hidden / heads",
     .meaning = "width of one attention head"},
    {.path = "model.vocab", .type = T::integer, .kind = D::required, .meaning = "vocabulary size"},
    {.path = "model.seq_len", .type = T::integer, .kind = D::required, .meaning = "tokens per sequence"},
    {.path = "model.activation",
     .type = T::choice,
     .def = "swiglu",
     .choices = activations,
     .meaning = "FFN activation: swiglu has three matrices, gelu two"},
    {.path = "model.tied_embeddings",
     .type = T::flag,
     .def = "false",
     .meaning = "the output layer shares the input embedding's weights"},
    {.path = "model.position_embeddings",
     .type = T::choice,
     .def = "rope",
     .choices = positions,
     .meaning = "`learned` adds seq_len x hidden parameters (GPT-2/3)",
     .addition = true},
    {.path = "model.dropout",
     .type = T::flag,
     .def = "false",
     .meaning = "dropout masks are stored for the backward (GPT-2/3-era training)",
     .addition = true},
    {.path = "model.moe", .type = T::block, .kind = D::absent, .meaning = "mixture of experts; absent = dense"},
    {.path = "model.moe.experts",
     .type = T::integer,
     .kind = D::required,
     .min = 2,
     .meaning = "routed experts per MoE layer"},
    {.path = "model.moe.top_k",
     .type = T::integer,
     .kind = D::required,
     .bound_rule = "at most experts",
     .meaning = "experts each token is routed to"},
    {.path = "model.moe.shared_experts",
     .type = T::integer,
     .def = "0",
     .min = 0,
     .meaning = "experts every token passes through"},
    {.path = "model.moe.expert_ffn_hidden",
     .type = T::integer,
     .kind = D::derived,
     .note = "ffn_hidden",
     .meaning = "FFN width of one expert"},
    {.path = "model.moe.dense_layers",
     .type = T::integer,
     .def = "0",
     .min = 0,
     .bound_rule = "below layers",
     .meaning = "the first N layers are dense"},
    {.path = "model.moe.capacity_factor",
     .type = T::quantity,
     .def = "1.0",
     .range = Range::AtLeastOne,
     .at_most = 16,
     .meaning = "expert buffers relative to even routing (memory, all-to-all size)",
     .addition = true},
    {.path = "model.moe.token_drop",
     .type = T::flag,
     .def = "false",
     .meaning = "each expert takes at most capacity_factor x its even share, padded to it (static shapes, no "
                "host sync); false is dropless routing",
     .addition = true},
    {.path = "model.moe.router_groups",
     .type = T::integer,
     .def = "1",
     .bound_rule = "a divisor of experts",
     .meaning = "group-limited routing: the experts fall into this many contiguous groups (DeepSeek-V3: 8)",
     .addition = true},
    {.path = "model.moe.router_group_top_k",
     .type = T::integer,
     .kind = D::derived,
     .note = "router_groups (no limit)",
     .bound_rule = "at most router_groups; those groups must hold top_k experts",
     .meaning = "groups a token's experts may come from (DeepSeek-V3: 4): fewer scale-up domains to send it to",
     .addition = true},
    // An expert cannot take more than all the tokens routed to its GPU's
    // experts: experts / top_k times an even share bounds it.
    {.path = "model.moe.load_imbalance",
     .type = T::quantity,
     .def = "1.0",
     .note = "1: the load forced to balance, as in published benchmarks",
     .range = Range::AtLeastOne,
     .bound_rule = "at most experts / top_k",
     .meaning = "dropless routing: the busiest GPU's routed tokens over an even share; the step waits for it "
                "(ignored under token_drop)",
     .addition = true},
    {.path = "model.mla",
     .type = T::block,
     .kind = D::absent,
     .meaning = "multi-head latent attention (DeepSeek-V3, Kimi K2): these widths replace head_dim and kv_heads",
     .addition = true},
    {.path = "model.mla.q_lora_rank",
     .type = T::integer,
     .def = "0",
     .note = "0 = queries projected directly",
     .min = 0,
     .meaning = "rank of the query compression",
     .addition = true},
    {.path = "model.mla.kv_lora_rank",
     .type = T::integer,
     .kind = D::required,
     .meaning = "rank of the key/value compression (the cached latent)",
     .addition = true},
    {.path = "model.mla.qk_nope_head_dim",
     .type = T::integer,
     .kind = D::required,
     .meaning = "per-head query/key width without rotary embedding",
     .addition = true},
    {.path = "model.mla.qk_rope_head_dim",
     .type = T::integer,
     .kind = D::required,
     .meaning = "per-head query/key width with rotary embedding",
     .addition = true},
    {.path = "model.mla.v_head_dim",
     .type = T::integer,
     .kind = D::required,
     .meaning = "per-head value width",
     .addition = true},
    {.path = "model.mtp_layers",
     .type = T::integer,
     .def = "0",
     .min = 0,
     .max = 8,
     .meaning = "multi-token-prediction modules (DeepSeek-V3: 1), on the last pipeline stage; not in model.params",
     .addition = true},
    {.path = "model.sliding_window",
     .type = T::integer,
     .def = "0",
     .note = "0 = full attention in every layer",
     .min = 0,
     .meaning = "tokens a sliding-window layer attends to",
     .addition = true},
    {.path = "model.global_every",
     .type = T::integer,
     .kind = D::derived,
     .note = "2 with a sliding window, else 1",
     .bound_rule = "at most layers",
     .meaning = "every N-th layer attends globally, the others within the window (gpt-oss: 2)",
     .addition = true},

    {.path = "cluster", .type = T::block, .kind = D::required, .meaning = "what it runs on"},
    {.path = "cluster.system",
     .type = T::text,
     .kind = D::required,
     .meaning = "a catalog system, a node or a rack (`danlu catalog systems`)"},
    {.path = "cluster.accelerator",
     .type = T::text,
     .kind = D::derived,
     .note = "the system's",
     .meaning = "a catalog accelerator in place of the system's"},
    // The largest clusters planned hold about a million accelerators; ten
    // million keeps every count (and its products) far inside 32 bits.
    {.path = "cluster.gpus",
     .type = T::integer,
     .kind = D::absent,
     .max = 10'000'000,
     .meaning = "accelerators; give exactly one of gpus, nodes or racks"},
    {.path = "cluster.nodes",
     .type = T::integer,
     .kind = D::absent,
     .bound_rule = "at most 10 million GPUs",
     .meaning = "nodes of the system (instead of gpus)"},
    {.path = "cluster.racks",
     .type = T::integer,
     .kind = D::absent,
     .bound_rule = "at most 10 million GPUs",
     .meaning = "racks of the system (instead of gpus)"},
    {.path = "cluster.scale_up_domain",
     .type = T::integer,
     .kind = D::derived,
     .note = "the system's",
     .bound_rule = "at most the system's",
     .meaning = "accelerators per scale-up domain: TPU slices joined over the data-centre network, an NVL72 "
                "rack partitioned",
     .addition = true},
    {.path = "cluster.scale_out", .type = T::block, .def = "", .meaning = "the fabric between scale-up domains"},
    {.path = "cluster.scale_out.fabric",
     .type = T::text,
     .kind = D::derived,
     .note = "the system's",
     .meaning = "a catalog fabric: rate per port each way, switch radix, latency, power"},
    {.path = "cluster.scale_out.topology",
     .type = T::choice,
     .kind = D::derived,
     .note = "torus-3d on a torus system, else rail-optimized",
     .choices = scale_out_topology_names,
     .meaning = "how the fabric is wired"},
    {.path = "cluster.scale_out.oversubscription",
     .type = T::quantity,
     .def = "1",
     .range = Range::AtLeastOne,
     .at_most = 64,
     .meaning = "leaf downlinks over uplinks: 1 is non-blocking, 2 is 2:1"},
    {.path = "cluster.scale_out.nics_per_gpu",
     .type = T::quantity,
     .kind = D::derived,
     .note = "the system's",
     .at_most = 16,
     .meaning = "scale-out ports per accelerator"},

    {.path = "training", .type = T::block, .kind = D::required, .meaning = "how it is trained"},
    {.path = "training.precision",
     .type = T::choice,
     .def = "bf16",
     .choices = precisions,
     .meaning = "matmul precision; the accelerator must have that path"},
    {.path = "training.parallelism", .type = T::block, .def = "", .meaning = "the layout"},
    {.path = "training.parallelism.tp", .type = T::integer, .def = "1", .meaning = "tensor parallelism"},
    {.path = "training.parallelism.pp", .type = T::integer, .def = "1", .meaning = "pipeline stages"},
    {.path = "training.parallelism.cp", .type = T::integer, .def = "1", .meaning = "context parallelism"},
    {.path = "training.parallelism.dp",
     .type = T::integer,
     .kind = D::derived,
     .note = "gpus / (tp*pp*cp)",
     .bound_rule = "tp*pp*dp*cp = gpus",
     .meaning = "data parallelism"},
    {.path = "training.parallelism.ep",
     .type = T::integer,
     .def = "1",
     .bound_rule = "ep*etp divides tp*cp*dp",
     .meaning = "expert parallelism"},
    {.path = "training.parallelism.etp",
     .type = T::integer,
     .kind = D::derived,
     .note = "tp (Megatron-Core's default)",
     .meaning = "expert tensor parallelism: ranks each expert's weights are split over",
     .addition = true},
    {.path = "training.parallelism.vpp",
     .type = T::integer,
     .def = "1",
     .meaning = "virtual stages per pipeline stage (interleaved schedule)"},
    {.path = "training.parallelism.rank_order",
     .type = T::text,
     .def = "tp-cp-dp-pp",
     .bound_rule = "an order of tp, cp, dp and pp",
     .meaning = "how ranks are numbered, innermost first: which groups share a scale-up domain",
     .addition = true},
    {.path = "training.pipeline_split",
     .type = T::block,
     .def = "",
     .meaning = "Megatron's account-for-embedding/loss in the pipeline split",
     .addition = true},
    {.path = "training.pipeline_split.embedding",
     .type = T::flag,
     .def = "false",
     .meaning = "the embedding takes one layer's place in the first virtual stage",
     .addition = true},
    {.path = "training.pipeline_split.loss",
     .type = T::flag,
     .def = "false",
     .meaning = "the loss takes one layer's place in the last virtual stage",
     .addition = true},
    {.path = "training.micro_batch", .type = T::integer, .def = "1", .meaning = "sequences per micro-batch"},
    {.path = "training.global_batch",
     .type = T::integer,
     .kind = D::derived,
     .note = "micro_batch * dp * pp",
     .bound_rule = "a multiple of micro_batch * dp",
     .meaning = "sequences per step"},
    {.path = "training.global_batch_tokens",
     .type = T::quantity,
     .unit = Q::Count,
     .kind = D::absent,
     .at_most = 1e12,
     .meaning = "tokens per step, instead of global_batch (rounded to whole sequences)"},
    {.path = "training.sequence_parallel",
     .type = T::flag,
     .kind = D::derived,
     .note = "tp > 1",
     .meaning = "norms and dropout split over the TP ranks (Megatron's sequence parallelism)"},
    {.path = "training.zero",
     .type = T::integer,
     .def = "1",
     .min = 0,
     .max = 3,
     .meaning = "ZeRO stage: 1 shards optimizer states, 2 gradients too, 3 parameters too (FSDP)"},
    {.path = "training.recompute",
     .type = T::choice,
     .def = "selective",
     .choices = enum_names<Recompute>,
     .meaning = "activation recomputation in the backward"},
    {.path = "training.recompute_modules",
     .type = T::list,
     .kind = D::derived,
     .note = "[core_attn] (Megatron-Core's default)",
     .bound_rule = "only with recompute: selective",
     .choices = enum_names<RecomputeModule>,
     .meaning = "what selective recomputation repeats in the backward (Megatron's recompute_modules)",
     .addition = true},
    {.path = "training.flash_attention",
     .type = T::flag,
     .def = "true",
     .meaning = "false: the s x s attention scores are materialised and stored (Megatron before 2023)",
     .addition = true},
    {.path = "training.recompute_layers",
     .type = T::integer,
     .kind = D::derived,
     .note = "every layer (-1)",
     .min = 0,
     .meaning = "with recompute: full, layers of each pipeline chunk recomputed; the rest keep theirs",
     .addition = true},
    {.path = "training.pipeline_schedule",
     .type = T::choice,
     .kind = D::derived,
     .note = "interleaved when vpp > 1, else 1f1b",
     .choices = pipeline_schedule_names,
     .meaning = "the order of forward and backward passes"},
    {.path = "training.overlap", .type = T::block, .def = "", .meaning = "communication hidden under compute"},
    {.path = "training.overlap.dp_comm",
     .type = T::flag,
     .def = "true",
     .meaning = "gradient reduce-scatter and parameter all-gather under the backward and forward"},
    {.path = "training.overlap.tp_comm",
     .type = T::flag,
     .def = "false",
     .meaning = "TP collectives split and pipelined with their GEMMs"},
    {.path = "training.overlap.pp_comm",
     .type = T::flag,
     .def = "true",
     .meaning = "stage-to-stage sends under the next pass"},
    {.path = "training.overlap.ep_comm",
     .type = T::flag,
     .def = "false",
     .meaning = "MoE dispatch and combine under another micro-batch's compute",
     .addition = true},
    {.path = "training.tokens",
     .type = T::quantity,
     .unit = Q::Count,
     .kind = D::derived,
     .note = "20 tokens per parameter (Chinchilla)",
     .at_most = 1e16,
     .meaning = "tokens of the whole run, for time-to-train, energy and cost"},
    {.path = "training.optimizer",
     .type = T::choice,
     .def = "adam",
     .choices = enum_names<Optimizer>,
     .meaning = "what the optimizer keeps per parameter and moves in its step"},
    {.path = "training.fp8_recipe",
     .type = T::choice,
     .def = "tensorwise",
     .choices = enum_names<Fp8Recipe>,
     .meaning = "how fp8 scales its tensors (per tensor, per 32 elements, DeepSeek-V3's blocks)",
     .addition = true},
    {.path = "training.fp4_recipe",
     .type = T::choice,
     .def = "nvfp4",
     .choices = enum_names<Fp4Recipe>,
     .meaning = "fp4 blocks: nvfp4 (16 elements, two-level scale) or mxfp4 (32)",
     .addition = true},
    {.path = "training.cuda_graphs",
     .type = T::choice,
     .def = "none",
     .choices = enum_names<CudaGraphs>,
     .meaning = "host launches captured: partial halves them, full removes them",
     .addition = true},
    {.path = "training.ep_dispatch",
     .type = T::choice,
     .def = "alltoall",
     .choices = enum_names<EpDispatch>,
     .meaning = "MoE tokens: one copy per expert (NCCL) or one per remote scale-up domain, forwarded (DeepEP)",
     .addition = true},
    {.path = "training.offload_activations",
     .type = T::integer,
     .def = "0",
     .min = 0,
     .meaning = "layers per GPU whose saved activations go to host memory and back",
     .addition = true},
    {.path = "training.stage_layers",
     .type = T::list,
     .kind = D::derived,
     .note = "as even as possible, first and last stage short first",
     .bound_rule = "pp entries adding up to layers",
     .meaning = "layers per pipeline stage, e.g. [7, 8, …, 8, 7]",
     .addition = true},

    {.path = "facility", .type = T::block, .def = "", .meaning = "where it runs"},
    {.path = "facility.cooling",
     .type = T::choice,
     .kind = D::derived,
     .note = "the system's",
     .choices = enum_names<Cooling>,
     .meaning = "how heat leaves the racks"},
    {.path = "facility.pue",
     .type = T::quantity,
     .kind = D::derived,
     .note = "from cooling",
     .range = Range::AtLeastOne,
     .at_most = 3,
     .meaning = "facility power over IT power"},
    {.path = "facility.electricity",
     .type = T::quantity,
     .unit = Q::EnergyPrice,
     .def = "0.0862",
     .note = "US industrial average 2025 (EIA)",
     .range = Range::NonNegative,
     .at_most = 10,
     .meaning = "USD per kWh"},
    {.path = "facility.max_rack_kw",
     .type = T::quantity,
     .kind = D::derived,
     .note = "limit of the cooling type",
     .at_most = 2000,
     .meaning = "a rack drawing more is reported as not coolable"},

    {.path = "cost", .type = T::block, .def = "", .meaning = "what it costs"},
    {.path = "cost.rent", .type = T::block, .def = "", .meaning = "renting the accelerators"},
    {.path = "cost.rent.gpu_hour",
     .type = T::quantity,
     .unit = Q::Money,
     .kind = D::derived,
     .note = "catalog price of the accelerator: market rate for 1-year reserved capacity, March 2026 (catalog)",
     .at_most = 1000,
     .meaning = "USD per GPU-hour, all-in"},
    // Reserved capacity is discounted 30-50% (GPU clouds' 1-3 year terms,
    // 2025-26 price lists); 95% is already far out.
    {.path = "cost.rent.reserved_discount",
     .type = T::quantity,
     .unit = Q::Fraction,
     .def = "0",
     .range = Range::NonNegative,
     .at_most = 0.95,
     .meaning = "fraction off gpu_hour, for a deal beyond the catalog's 1-year reserved rate",
     .addition = true},
    {.path = "cost.buy", .type = T::block, .def = "", .meaning = "owning the cluster"},
    {.path = "cost.buy.gpu_server",
     .type = T::quantity,
     .unit = Q::Money,
     .kind = D::derived,
     .note = "catalog list price per node (per rack for rack systems)",
     .at_most = 1e9,
     .meaning = "USD per node, or per rack for rack systems"},
    {.path = "cost.buy.network_per_gpu",
     .type = T::quantity,
     .unit = Q::Money,
     .kind = D::derived,
     .note = "fabric usd_per_port * nics_per_gpu",
     .range = Range::NonNegative,
     .at_most = 1e6,
     .meaning = "USD of scale-out network per GPU"},
    {.path = "cost.buy.facility_per_mw",
     .type = T::quantity,
     .unit = Q::Money,
     .def = "11.7M",
     .note = "US average build-out 2025 (Cushman & Wakefield)",
     .at_most = 1e9,
     .meaning = "USD per MW of facility power, build-out"},
    {.path = "cost.buy.depreciation",
     .type = T::quantity,
     .unit = Q::Duration,
     .def = "4y",
     .at_most = 30 * kYear_s,
     .meaning = "years over which the hardware is written off"},
    {.path = "cost.buy.maintenance",
     .type = T::quantity,
     .unit = Q::Fraction,
     .def = "0.05",
     .range = Range::UnitInterval,
     .meaning = "fraction of capex per year"},
    {.path = "cost.buy.cost_of_capital",
     .type = T::quantity,
     .unit = Q::Fraction,
     .def = "0.08",
     .range = Range::UnitInterval,
     .meaning = "interest per year on the capital"},
    {.path = "cost.utilization",
     .type = T::quantity,
     .unit = Q::Fraction,
     .def = "0.9",
     .range = Range::UnitInterval,
     .bound_rule = "greater than 0",
     .meaning = "fraction of owned hours doing useful work"},
    {.path = "cost.horizon",
     .type = T::quantity,
     .unit = Q::Duration,
     .kind = D::derived,
     .note = "buy.depreciation",
     .at_most = 30 * kYear_s,
     .meaning = "the fleet's life, for rent-vs-buy"},

    {.path = "reliability", .type = T::block, .def = "", .meaning = "what failures cost"},
    // 419 unexpected interruptions in 54 days on 16,384 GPUs (Llama 3
    // paper) is ~50,000 GPU-hours between failures.
    {.path = "reliability.gpu_mtbf",
     .type = T::quantity,
     .unit = Q::Duration,
     .def = "50000h",
     .note = "Llama 3's 419 interruptions in 54 days on 16,384 GPUs",
     .at_most = 1e7 * 3600,
     .meaning = "mean time between failures of one GPU"},
    {.path = "reliability.checkpoint_interval",
     .type = T::quantity,
     .unit = Q::Duration,
     .def = "0",
     .note = "0 = the Young/Daly optimum",
     .range = Range::NonNegative,
     .at_most = 30 * 86400.0,
     .meaning = "time between checkpoints"},
    {.path = "reliability.checkpoint_write",
     .type = T::quantity,
     .unit = Q::Duration,
     .def = "60s",
     .range = Range::NonNegative,
     .at_most = 86400,
     .meaning = "time the step stalls to write one"},
    {.path = "reliability.restart",
     .type = T::quantity,
     .unit = Q::Duration,
     .def = "10min",
     .range = Range::NonNegative,
     .at_most = 7 * 86400.0,
     .meaning = "time from a failure to training again"},

    {.path = "sim", .type = T::block, .def = "", .meaning = "how the step is simulated"},
    {.path = "sim.engine",
     .type = T::choice,
     .def = "analytic",
     .choices = engine_names,
     .meaning = "analytic (closed form, microseconds) or des (SimGrid, links shared by concurrent flows)"},
    {.path = "sim.fidelity",
     .type = T::choice,
     .def = "folded",
     .choices = enum_names<Fidelity>,
     .meaning = "des: folded replays one rank per pipeline stage, full every rank"},
    {.path = "sim.steps",
     .type = T::integer,
     .def = "1",
     .max = 1000,
     .meaning = "des: steps replayed back to back; figures are per step"},
    {.path = "sim.seed",
     .type = T::integer,
     .def = "1",
     .min = 0,
     .meaning = "accepted for the contract; no model draws random numbers, so it changes nothing"},

    {.path = "measured",
     .type = T::block,
     .kind = D::absent,
     .meaning = "a published figure the scenario reproduces, for validate and calibrate",
     .addition = true},
    {.path = "measured.step_s",
     .type = T::quantity,
     .unit = Q::Time,
     .kind = D::absent,
     .meaning = "measured step time",
     .addition = true},
    {.path = "measured.mfu",
     .type = T::quantity,
     .unit = Q::Fraction,
     .kind = D::absent,
     .range = Range::UnitInterval,
     .meaning = "measured model FLOPs utilisation",
     .addition = true},
    {.path = "measured.tokens_per_s_per_gpu",
     .type = T::quantity,
     .kind = D::absent,
     .meaning = "measured throughput (compared in preference to the step time)",
     .addition = true},
    {.path = "measured.source",
     .type = T::text,
     .kind = D::required,
     .meaning = "where the figure is published",
     .addition = true},
    {.path = "sweep",
     .type = T::block,
     .kind = D::absent,
     .meaning = "`danlu sweep`: dotted path -> list of values, run as their cross product"},
    {.path = "search",
     .type = T::block,
     .kind = D::absent,
     .meaning = "`danlu search`: layout path -> a value (fixed) or a list (the values tried)",
     .addition = true},
};

std::string int_text(std::int64_t v) {
  if (v == std::numeric_limits<std::int64_t>::max() || v == std::numeric_limits<std::int32_t>::max()) return "";
  return fmt::format("{}", v);
}

}  // namespace

std::span<const FieldDecl> scenario_schema() { return kSchema; }

const FieldDecl* find_field(std::string_view path) {
  static const std::unordered_map<std::string_view, const FieldDecl*> index = [] {
    std::unordered_map<std::string_view, const FieldDecl*> m;
    for (const FieldDecl& d : scenario_schema()) m.emplace(d.path, &d);
    return m;
  }();
  auto it = index.find(path);
  return it == index.end() ? nullptr : it->second;
}

std::string type_text(const FieldDecl& d) {
  switch (d.type) {
    case T::integer: return "integer";
    case T::quantity:
      switch (d.unit) {
        case Q::Real: return "number";
        case Q::Count: return "count (2048, 16M, 15.6T)";
        case Q::Fraction: return "fraction (0.05 or 5%)";
        case Q::Money: return "USD (3.5k, 10M)";
        case Q::Time: return "time (2us, 30min)";
        case Q::Duration: return "time with its unit (60s, 4y)";
        case Q::EnergyPrice: return "USD/kWh";
        default: return expected_text(d.unit);
      }
    case T::flag: return "true or false";
    case T::choice: return "one of " + fmt::format("{}", fmt::join(d.choices(), ", "));
    case T::text: return "text";
    case T::block: return "mapping";
    case T::list: return d.choices ? "list of " + fmt::format("{}", fmt::join(d.choices(), ", ")) : "list";
  }
  return "";
}

std::string default_text(const FieldDecl& d) {
  switch (d.kind) {
    case D::value:
      if (d.type == T::block) return "";
      return d.def.empty() ? "\"\"" : std::string(d.def);
    case D::derived: return std::string(d.note);
    case D::absent: return "absent";
    case D::required: return "required";
  }
  return "";
}

std::string range_text(const FieldDecl& d) {
  std::string out;
  auto add = [&](const std::string& s) {
    if (!s.empty()) out += (out.empty() ? "" : ", ") + s;
  };
  if (d.type == T::integer) {
    const std::string hi = int_text(d.max);
    add(hi.empty() ? fmt::format("{} or more", d.min) : fmt::format("{} to {}", d.min, hi));
  } else if (d.type == T::quantity) {
    switch (d.range) {
      case Range::Positive: add("> 0"); break;
      case Range::NonNegative: add(">= 0"); break;
      case Range::UnitInterval: add("0 to 1"); break;
      case Range::AtLeastOne: add(">= 1"); break;
      case Range::Any: break;
    }
    if (std::isfinite(d.at_most)) add("at most " + format_quantity(d.at_most, d.unit));
  }
  add(std::string(d.bound_rule));
  return out;
}

// ------------------------------------------------------------ DeclaredFields

const FieldDecl& DeclaredFields::decl(const std::string& key, FieldType type) const {
  const std::string path = f_.path_of(key);
  const FieldDecl* d = find_field(path);
  if (!d) throw std::logic_error("the loader reads " + path + ", which the scenario schema does not declare");
  if (d->type != type) throw std::logic_error("the loader reads " + path + " as another type than declared");
  return *d;
}

template <class T>
std::optional<T> DeclaredFields::fallback(const FieldDecl& d, std::optional<T> derived,
                                          T (*parse)(const FieldDecl&)) const {
  const bool gives = derived.has_value();
  const bool needs = d.kind == D::derived;
  if (gives != needs)
    throw std::logic_error(fmt::format("{}: the loader {} a default the schema {}", d.path, gives ? "gives" : "lacks",
                                       gives ? "already fixes or leaves out" : "derives"));
  if (d.kind == D::value) return parse(d);
  return derived;
}

void DeclaredFields::note(const std::string& key, const FieldDecl& d) {
  if (!d.note.empty()) f_.note_default(key, std::string(d.note));
}

std::int64_t DeclaredFields::integer(const std::string& key, std::optional<std::int64_t> derived,
                                     std::optional<std::int64_t> at_most) {
  const FieldDecl& d = decl(key, T::integer);
  auto def = fallback<std::int64_t>(d, derived,
                                    [](const FieldDecl& x) -> std::int64_t { return std::stoll(std::string(x.def)); });
  const std::int64_t v = f_.integer(key, def, d.min, at_most.value_or(d.max));
  note(key, d);
  return v;
}

double DeclaredFields::quantity(const std::string& key, std::optional<double> derived, std::optional<double> at_most) {
  const FieldDecl& d = decl(key, T::quantity);
  auto def =
      fallback<double>(d, derived, [](const FieldDecl& x) { return parse_quantity(std::string(x.def), x.unit); });
  std::optional<double> bound = at_most;
  if (!bound && std::isfinite(d.at_most)) bound = d.at_most;
  const double v = f_.quantity(key, d.unit, def, d.range, bound);
  note(key, d);
  return v;
}

bool DeclaredFields::flag(const std::string& key, std::optional<bool> derived) {
  const FieldDecl& d = decl(key, T::flag);
  auto def = fallback<bool>(d, derived, [](const FieldDecl& x) { return x.def == "true"; });
  const bool v = f_.boolean(key, def);
  note(key, d);
  return v;
}

std::string DeclaredFields::choice(const std::string& key, std::optional<std::string> derived) {
  const FieldDecl& d = decl(key, T::choice);
  auto def = fallback<std::string>(d, std::move(derived), [](const FieldDecl& x) { return std::string(x.def); });
  std::string v = f_.choice(key, def, d.choices());
  note(key, d);
  return v;
}

std::string DeclaredFields::text(const std::string& key, std::optional<std::string> derived) {
  const FieldDecl& d = decl(key, T::text);
  auto def = fallback<std::string>(d, std::move(derived), [](const FieldDecl& x) { return std::string(x.def); });
  std::string v = f_.text(key, def);
  note(key, d);
  return v;
}

const Node* DeclaredFields::raw(const std::string& key) {
  const std::string path = f_.path_of(key);
  if (!find_field(path))
    throw std::logic_error("the loader reads " + path + ", which the scenario schema does not declare");
  return f_.raw(key);
}

DeclaredFields DeclaredFields::sub(const std::string& key) {
  const std::string path = f_.path_of(key);
  const FieldDecl* d = find_field(path);
  if (!d || d->type != T::block)
    throw std::logic_error("the loader reads " + path + " as a block, which the schema does not declare");
  return DeclaredFields(f_.sub(key));
}

}  // namespace danlu
