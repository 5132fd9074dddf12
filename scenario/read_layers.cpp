// The model's layer kinds beyond attention and MLP/MoE (Mamba-2 and -1, linear
// attention, DSA, sinks) and the patterns that place them, with the checks
// that tie each pattern letter to the block that shapes it.
#include <fmt/format.h>

#include "scenario/readers.hpp"
#include "workload/pattern.hpp"

namespace danlu::readers {

namespace {

InputError at(DeclaredFields& f, const std::string& key, std::string detail) {
  return InputError(f.loc_of(key), f.path_of(key), std::move(detail)).as_constraint();
}

// The pattern field `key` expanded over `alphabet` (literal: no repetition),
// checked to give one letter per layer.
std::string read_pattern(DeclaredFields& f, const std::string& key, std::string_view alphabet, bool literal,
                         int layers) {
  const std::string text = f.text(key);
  std::string out;
  if (literal) {
    for (size_t i = 0; i < text.size(); ++i)
      if (alphabet.find(text[i]) == std::string_view::npos)
        throw at(f, key,
                 fmt::format("'{}' at character {} is not a layer letter; expected one of \"{}\"", text[i], i + 1,
                             alphabet));
    out = text;
  } else {
    try {
      out = expand_pattern(text, alphabet, static_cast<size_t>(layers) + 1);
    } catch (const PatternError& e) {
      throw at(f, key, fmt::format("at character {}: {}", e.at + 1, e.what()));
    }
  }
  if (out.size() != static_cast<size_t>(layers))
    throw at(f, key,
             fmt::format("expected one letter per layer ({}), found {}{}", layers, out.size(),
                         literal ? "" : " once expanded"));
  return out;
}

bool uses(const ModelSpec& m, char hybrid, char mixer) {
  return m.hybrid_pattern.find(hybrid) != std::string::npos || m.mixer_pattern.find(mixer) != std::string::npos;
}

}  // namespace

void read_layer_kinds(DeclaredFields& f, ModelSpec& m) {
  m.attention_sinks = f.flag("attention_sinks");
  if (f.has("mamba")) {
    DeclaredFields b = f.sub("mamba");
    MambaSpec s;
    s.heads = static_cast<int>(b.integer("heads"));
    s.head_dim = static_cast<int>(b.integer("head_dim"));
    s.state_size = static_cast<int>(b.integer("state_size"));
    s.groups = static_cast<int>(b.integer("groups", std::nullopt, s.heads));
    if (s.heads % s.groups != 0)
      throw at(b, "groups", fmt::format("expected a divisor of heads ({}), found {}", s.heads, s.groups));
    s.conv_kernel = static_cast<int>(b.integer("conv_kernel"));
    s.chunk = static_cast<int>(b.integer("chunk"));
    b.finish();
    m.mamba = s;
  } else {
    f.raw("mamba");
  }
  if (f.has("mamba1")) {
    DeclaredFields b = f.sub("mamba1");
    Mamba1Spec s;
    s.inner = static_cast<int>(b.integer("inner"));
    s.state_size = static_cast<int>(b.integer("state_size"));
    s.conv_kernel = static_cast<int>(b.integer("conv_kernel"));
    s.dt_rank = static_cast<int>(b.integer("dt_rank", std::nullopt, s.inner));
    b.finish();
    m.mamba1 = s;
  } else {
    f.raw("mamba1");
  }
  if (f.has("linear_attention")) {
    DeclaredFields b = f.sub("linear_attention");
    LinearAttentionSpec s;
    s.heads = static_cast<int>(b.integer("heads"));
    s.key_heads = static_cast<int>(b.integer("key_heads", s.heads, s.heads));
    if (s.heads % s.key_heads != 0)
      throw at(b, "key_heads", fmt::format("expected a divisor of heads ({}), found {}", s.heads, s.key_heads));
    s.key_head_dim = static_cast<int>(b.integer("key_head_dim"));
    s.value_head_dim = static_cast<int>(b.integer("value_head_dim"));
    s.conv_kernel = static_cast<int>(b.integer("conv_kernel"));
    s.chunk = static_cast<int>(b.integer("chunk"));
    s.gate_rank = static_cast<int>(b.integer("gate_rank"));
    b.finish();
    m.linear_attention = s;
  } else {
    f.raw("linear_attention");
  }
  if (f.has("sparse_attention")) {
    if (!m.mla) throw at(f, "sparse_attention", "DeepSeek Sparse Attention runs over MLA: give model.mla beside it");
    DeclaredFields b = f.sub("sparse_attention");
    SparseAttentionSpec s;
    s.top_k = static_cast<int>(b.integer("top_k", std::nullopt, m.seq_len));
    s.indexer_heads = static_cast<int>(b.integer("indexer_heads"));
    s.indexer_head_dim = static_cast<int>(b.integer("indexer_head_dim"));
    b.finish();
    m.sparse_attention = s;
  } else {
    f.raw("sparse_attention");
  }
  if (m.sliding_window > m.seq_len)
    throw at(f, "sliding_window",
             fmt::format("expected at most seq_len ({}), found {}: a window longer than the sequence is full "
                         "attention; set 0",
                         m.seq_len, m.sliding_window));

  if (f.has("hybrid_pattern")) {
    for (const char* other : {"mixer_pattern", "ffn_pattern"})
      if (f.has(other))
        throw at(f, other, "give either hybrid_pattern (one part per layer) or mixer_pattern/ffn_pattern, not both");
    m.hybrid_pattern = read_pattern(f, "hybrid_pattern", "M*-E", true, m.layers);
  }
  if (f.has("mixer_pattern")) m.mixer_pattern = read_pattern(f, "mixer_pattern", "AWLMS", false, m.layers);
  if (f.has("ffn_pattern")) {
    m.ffn_pattern = read_pattern(f, "ffn_pattern", "-E", false, m.layers);
    if (m.moe && m.moe->dense_layers > 0)
      throw at(f, "ffn_pattern", "give either ffn_pattern or moe.dense_layers, not both");
  }

  // Each letter needs its block, and each block (where its layers are
  // placed by a pattern) a letter.
  const bool hybrid = !m.hybrid_pattern.empty();
  const std::string mixers = hybrid ? "hybrid_pattern" : "mixer_pattern",
                    ffns = hybrid ? "hybrid_pattern" : "ffn_pattern";
  auto in = [](const std::string& pattern, char letter) { return pattern.find(letter) != std::string::npos; };
  struct Need {
    bool used, given, must_be_used;
    const char* block;
    char letter;
    const std::string& pattern;
  };
  const Need needs[] = {
      {uses(m, 'M', 'M'), m.mamba.has_value(), true, "mamba", 'M', mixers},
      {in(m.mixer_pattern, 'L'), m.linear_attention.has_value(), true, "linear_attention", 'L', mixers},
      {in(m.mixer_pattern, 'S'), m.mamba1.has_value(), true, "mamba1", 'S', mixers},
      {in(m.mixer_pattern, 'W'), m.sliding_window > 0, false, "sliding_window", 'W', mixers},
      {in(m.hybrid_pattern, 'E') || in(m.ffn_pattern, 'E'), m.moe.has_value(), hybrid || !m.ffn_pattern.empty(), "moe",
       'E', ffns},
  };
  for (const Need& n : needs) {
    if (n.used && !n.given)
      throw at(f, n.pattern, fmt::format("'{}' layers need model.{}; give it", n.letter, n.block));
    if (n.must_be_used && n.given && !n.used)
      throw at(f, n.block, fmt::format("no layer uses it: put {} in model.{}", n.letter, n.pattern));
  }
  if (m.moe && m.moe->latent_hidden >= m.hidden)
    throw InputError(f.loc_of("moe"), f.path_of("moe") + ".latent_hidden",
                     fmt::format("expected below hidden ({}), found {}", m.hidden, m.moe->latent_hidden))
        .as_constraint();
}

}  // namespace danlu::readers
