/* timm-layout.h — the tensors of one block of a timm ViT checkpoint, "blocks.<b>.<leaf>", for
 * the tests and the fuzz harnesses that write a synthetic model file (tests/test-model.c,
 * tests/fuzz/fuzz-common.h). TIMM_BLOCK_TENSORS(X, D, H) expands X(leaf, rank, rows, cols)
 * once per tensor, in the checkpoint's order: D is the width, H the MLP's; cols is 0 for a
 * vector (rank 1). */
#ifndef VITLENS_TIMM_LAYOUT_H
#define VITLENS_TIMM_LAYOUT_H

#define TIMM_BLOCK_TENSORS(X, D, H)                                                            \
    X("norm1.weight", 1, D, 0)                                                                 \
    X("norm1.bias", 1, D, 0)                                                                   \
    X("attn.qkv.weight", 2, 3 * (D), D)                                                        \
    X("attn.qkv.bias", 1, 3 * (D), 0)                                                          \
    X("attn.proj.weight", 2, D, D)                                                             \
    X("attn.proj.bias", 1, D, 0)                                                               \
    X("norm2.weight", 1, D, 0)                                                                 \
    X("norm2.bias", 1, D, 0)                                                                   \
    X("mlp.fc1.weight", 2, H, D)                                                               \
    X("mlp.fc1.bias", 1, H, 0)                                                                 \
    X("mlp.fc2.weight", 2, D, H)                                                               \
    X("mlp.fc2.bias", 1, D, 0)

#endif
