// The frame marker shared by bench/screen's load program (which draws it) and its client (which
// reads it back from the received framebuffer).
//
// A strip of kBlocks square blocks of kBlock pixels at the screen's top-left corner, each pure
// black or pure white (one bit), survives lossy JPEG. Blocks 0,1 and the last two are a fixed
// frame (white black … black white) so that a screen without a marker does not decode. The
// blocks between carry the frame's sequence number in Gray code, most significant bit first:
// consecutive numbers differ in one block, so a strip captured half before and half after a
// frame was drawn (servers that poll the screen tile by tile) still decodes to one of the two.
#pragma once

#include <cstdint>
#include <optional>

namespace reach::bench::marker {

constexpr int kBlock = 8;
constexpr int kBlocks = 32;
constexpr int kWidth = kBlock * kBlocks;
constexpr int kHeight = kBlock;
constexpr int kSeqBits = kBlocks - 4;

constexpr std::uint32_t to_gray(std::uint32_t v) {
  return v ^ (v >> 1);
}
constexpr std::uint32_t from_gray(std::uint32_t g) {
  for (std::uint32_t shift = 1; shift < 32; shift <<= 1) g ^= g >> shift;
  return g;
}

// Whether block `i` of the marker for `seq` is white.
constexpr bool block_white(std::uint32_t seq, int i) {
  if (i == 0 || i == kBlocks - 1) return true;
  if (i == 1 || i == kBlocks - 2) return false;
  std::uint32_t g = to_gray(seq & ((1u << kSeqBits) - 1));
  return (g >> (kSeqBits - 1 - (i - 2))) & 1u;
}

// Reads the marker back. `luma(x, y)` is the brightness 0..255 of a screen pixel. Each block is
// judged by the mean of its central pixels, away from JPEG's ringing at the block edges; a block
// neither clearly dark nor clearly bright, or a wrong frame, gives nullopt.
template <class Luma>
std::optional<std::uint32_t> decode(Luma&& luma) {
  constexpr int kInset = kBlock / 4;
  std::uint32_t g = 0;
  for (int i = 0; i < kBlocks; ++i) {
    int sum = 0, n = 0;
    for (int y = kInset; y < kBlock - kInset; ++y)
      for (int x = i * kBlock + kInset; x < (i + 1) * kBlock - kInset; ++x, ++n) sum += luma(x, y);
    int mean = sum / n;
    if (mean > 64 && mean < 192) return std::nullopt;
    bool white = mean >= 192;
    if (i < 2 || i >= kBlocks - 2) {
      if (white != block_white(0, i)) return std::nullopt;
    } else {
      g = (g << 1) | (white ? 1u : 0u);
    }
  }
  return from_gray(g);
}

}  // namespace reach::bench::marker
