/* vit.h — libvit, the ViT Lens inference engine: the one public header.
 *
 * Plain C11. Depends on libc, libm, pthreads, OpenBLAS, libpng and libjpeg only.
 *
 * Basic usage (load → plan → run):
 *
 *     vit_error err;
 *     vit_model *model = NULL;
 *     if (vit_model_load("deit_tiny/model.safetensors", &model, &err) != VIT_OK) {
 *         fprintf(stderr, "%s\n", err.msg);     // names the file and the problem
 *         return 1;
 *     }
 *     vit_session_opts opts = vit_session_opts_default();
 *     opts.variant = VIT_VARIANT_FP32;
 *     vit_session *s = NULL;
 *     vit_session_new(model, &opts, &s, &err);     // every buffer allocated here, once
 *
 *     vit_image img;
 *     vit_image_load("wolf.png", &img, &err);      // PNG or JPEG → RGB8, EXIF applied
 *     vit_prediction pred;
 *     vit_session_classify(s, &img, 5, &pred, &err);
 *     printf("%s %.3f (%.1f ms)\n", vit_model_label(model, pred.index[0]), pred.prob[0],
 *            pred.timing.forward_ms);
 *
 *     vit_image_free(&img);
 *     vit_session_free(s);
 *     vit_model_free(model);
 *
 * Conventions: every fallible call returns vit_status (VIT_OK == 0, errors negative) and, when
 * given a vit_error, fills it with one line naming the file and the problem. The engine never
 * prints and never exits. A failed call leaves its outputs NULL / zeroed and nothing allocated.
 *
 * Models and sessions: a vit_model is immutable after load and preparation, and may then be
 * shared by sessions on several threads; a vit_session is used by one thread at a time. What a
 * variant derives from the weights (the int8 Linears for a kernel, the fp32 Linears packed for
 * our GEMM) is built by one explicit call on the model, vit_model_prepare, made before the model
 * is shared; every session of that variant then reads the model's copy. A session made on a
 * model not prepared for it builds its own copy (correct, but one per session: prepare the
 * model when several sessions of it exist). Nothing is built, released or restored inside the
 * model behind a const pointer.
 */
#ifndef VIT_H
#define VIT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VIT_VERSION_STRING "0.1.0"

/* ---------------------------------------------------------------------------------------------
 * Status and errors */

typedef enum {
    VIT_OK = 0,
    VIT_ERR_IO = -1,          /* cannot open / read / write a file */
    VIT_ERR_FORMAT = -2,      /* the file is malformed (truncated, bad header, bad JSON, ...) */
    VIT_ERR_UNSUPPORTED = -3, /* well-formed but not supported (dtype, image type, version) */
    VIT_ERR_SHAPE = -4,       /* tensors missing, extra, or of shapes that do not fit */
    VIT_ERR_LIMIT = -5,       /* over a size limit (image dimensions, header size, ...) */
    VIT_ERR_NOMEM = -6,       /* allocation failed */
    VIT_ERR_ARG = -7,         /* the caller passed something invalid */
    VIT_ERR_CPU = -8,         /* the CPU lacks an instruction set the request needs */
} vit_status;

const char *vit_status_str(vit_status status);

#define VIT_ERROR_MSG_MAX 512
typedef struct {
    vit_status status;
    char msg[VIT_ERROR_MSG_MAX]; /* "model.safetensors: tensor blocks.3.mlp.fc1.weight has shape ..." */
} vit_error;

/* Optional logging (debug facts such as the kernel chosen); default: silent. */
typedef void (*vit_log_fn)(int level, const char *msg, void *user);
void vit_log_set(vit_log_fn fn, void *user);

/* ---------------------------------------------------------------------------------------------
 * Images */

/* Limits enforced before any pixel buffer is allocated. */
#define VIT_IMAGE_MAX_SIDE 16384
#define VIT_IMAGE_MAX_PIXELS 100000000LL
/* JPEG: at most this many scans (encoders write 1 to a few dozen; each scan is a pass over the
 * whole image, so thousands in a small file would decode for minutes), and at most this much
 * memory for the coefficients a progressive or multi-scan JPEG keeps (2 bytes a sample: a
 * 4:2:0 photo of 170 megapixels, a CMYK one of 33, fits). */
#define VIT_IMAGE_MAX_JPEG_SCANS 500
#define VIT_IMAGE_MAX_JPEG_MEMORY (512LL << 20)

typedef enum {
    VIT_PIXEL_RGB8 = 0, /* 3 bytes R,G,B */
    VIT_PIXEL_RGBA8,    /* 4 bytes R,G,B,A (alpha ignored, as PIL's convert("RGB")) */
    VIT_PIXEL_RGBX8,    /* 4 bytes R,G,B,x */
    VIT_PIXEL_BGRA8,    /* 4 bytes B,G,R,A (alpha ignored) */
    VIT_PIXEL_BGRX8,    /* 4 bytes B,G,R,x */
    VIT_PIXEL_GRAY8,    /* 1 byte luma */
} vit_pixel_format;

typedef struct {
    int32_t width, height;
    int32_t stride; /* bytes per row, >= width * bytes-per-pixel */
    vit_pixel_format format;
    uint8_t *data; /* owned when produced by vit_image_load / vit_image_new */
} vit_image;

/* Decode a PNG or JPEG file into RGB8, the way PIL's Image.open(...).convert("RGB") does:
 * alpha dropped, gray replicated, palette expanded, 16-bit reduced to 8, EXIF orientation
 * (JPEG APP1 and PNG eXIf) applied as PIL's ImageOps.exif_transpose. One deliberate difference:
 * 16-bit gray keeps the high byte (PIL would clip every value to 255). */
vit_status vit_image_load(const char *path, vit_image *out, vit_error *err);
vit_status vit_image_load_memory(const void *data, size_t size, const char *name, vit_image *out,
                                 vit_error *err);
/* An owned, zeroed image of the given size and format. */
vit_status vit_image_new(int32_t width, int32_t height, vit_pixel_format format, vit_image *out,
                         vit_error *err);
void vit_image_free(vit_image *img);
int vit_pixel_format_bytes(vit_pixel_format format);

/* Save RGB8, GRAY8 or RGBA8 (BGRA8 → RGBA, RGBX8/BGRX8 → RGB) as PNG (snapshots, charts, tests). */
vit_status vit_image_save_png(const vit_image *img, const char *path, vit_error *err);

typedef enum {
    VIT_INTERP_BICUBIC = 0, /* PIL BICUBIC, a = -0.5, antialiased */
    VIT_INTERP_BILINEAR,    /* PIL BILINEAR, antialiased */
    VIT_INTERP_NEAREST,
} vit_interp;

typedef struct {
    int32_t image_size;  /* square crop fed to the model, e.g. 224 */
    int32_t resize_size; /* the shorter side is resized to this first, e.g. 256 or 248 */
    int32_t channels;    /* 3 = RGB; 1 = luma as PIL's convert("L") */
    vit_interp interp;
    float mean[3], std[3];
    /* transformers' image processors (preprocessor_config.json): when both are > 0 the image is
     * resized to exactly resize_width × resize_height (resize_size then only holds the smaller
     * of the two) and center-cropped at floor((side - crop) / 2), as transformers' center_crop;
     * the crop must fit in the resize. Both 0 (the default): timm's shorter-side resize. */
    int32_t resize_width, resize_height;
} vit_preprocess_cfg;

/* The tutorial's pipeline: Resize(256, bicubic), CenterCrop(224), ImageNet mean/std. (A model
 * without config.json uses the same ratio at its own size: resize floor(img / 0.875), crop img.) */
vit_preprocess_cfg vit_preprocess_cfg_default(void);

/* Stage 1: convert to RGB8 (or GRAY8 when cfg->channels == 1), resize the shorter side to
 * cfg->resize_size with PIL's rounding (or the whole image to resize_width × resize_height when
 * they are set), center-crop to cfg->image_size (torchvision's offsets, zero padding if smaller;
 * transformers' floor offsets after a fixed-size resize). `out` receives a new owned image.
 * Exposed for tests and the UI. */
vit_status vit_image_resize_crop(const vit_image *in, const vit_preprocess_cfg *cfg, vit_image *out,
                                 vit_error *err);

/* Where stage 1 takes the model input from in a width × height image: resized to resized_w ×
 * resized_h, then the image_size square at (crop_x, crop_y) of the resized image (negative:
 * zero padding before). A point (u, v) of the model input is, in the image,
 * ((u + crop_x) * width / resized_w, (v + crop_y) * height / resized_h): how a patch-grid map
 * (vit_session_rollout) goes back onto the picture. */
typedef struct {
    int32_t resized_w, resized_h;
    int32_t crop_x, crop_y;
} vit_preprocess_geometry;
vit_status vit_preprocess_geometry_for(const vit_preprocess_cfg *cfg, int32_t width,
                                       int32_t height, vit_preprocess_geometry *out,
                                       vit_error *err);

/* Stages 1+2: the model input, (channels, image_size, image_size) floats, [0,1] then
 * normalized with mean/std. `out` holds channels*image_size*image_size floats. */
vit_status vit_preprocess(const vit_image *in, const vit_preprocess_cfg *cfg, float *out,
                          vit_error *err);

/* ---------------------------------------------------------------------------------------------
 * Models */

typedef struct vit_model vit_model;

/* What a model may ask of the machine, checked by every loader before anything is sized from
 * the file (engine/vit-limits.c): tokens per image (a 64×64 patch grid plus cls and dist), the
 * width of the model and of its MLP, blocks, the largest per-image buffer (MLP activations,
 * attention scores) and the work per image. ViT-G/14 at 518 px is 1,370 tokens, 1,664 wide with an
 * MLP of 8,192, 48 blocks and about 5.6 TFLOP. */
#define VIT_MODEL_MAX_TOKENS 4098
#define VIT_MODEL_MAX_DIM 16384
#define VIT_MODEL_MAX_DEPTH 256
#define VIT_MODEL_MAX_BUFFER_BYTES (4LL << 30)
#define VIT_MODEL_MAX_FLOP 1e13

/* A model file is read whole into private memory (never mapped: see vit_model_load); larger
 * files are refused before anything is allocated. 8 GiB holds a fp32 ViT-g/14 (1 B params). */
#define VIT_MODEL_MAX_FILE_BYTES (8LL << 30)

typedef enum {
    VIT_VARIANT_FP32 = 0,
    VIT_VARIANT_INT8,
    VIT_VARIANT_OPTIMIZED,
    VIT_VARIANT_COUNT,
} vit_variant;

const char *vit_variant_name(vit_variant v); /* "fp32", "int8", "optimized" */
/* Parse "fp32" / "int8" / "optimized"; returns VIT_ERR_ARG for anything else. */
vit_status vit_variant_parse(const char *name, vit_variant *out);

typedef enum {
    VIT_FORMAT_SAFETENSORS = 0, /* timm model.safetensors (+ config.json beside it) */
    VIT_FORMAT_VITQ,            /* our int8 file */
    VIT_FORMAT_VITL,            /* our lite file (optimized, prepacked: read, checked, used as is) */
} vit_file_format;

typedef struct {
    int32_t img_size;    /* input side, e.g. 224 */
    int32_t patch_size;  /* e.g. 16 */
    int32_t in_chans;    /* 3, or 1 for gray models */
    int32_t embed_dim;   /* D */
    int32_t depth;       /* number of blocks */
    int32_t num_heads;   /* D / head_dim */
    int32_t mlp_hidden;  /* fc1 width, 4D for DeiT */
    int32_t num_classes; /* head rows */
    int32_t distilled;   /* 1 when a dist_token and head_dist exist */
    int32_t num_patches; /* (img_size / patch_size)^2 */
    int32_t num_tokens;  /* num_patches + 1 (+1 distilled) */
    float ln_eps;        /* LayerNorm epsilon of every LayerNorm: 1e-6 (timm), or config.json's
                          * layer_norm_eps (transformers' DeiT/ViT: 1e-12) */
    int64_t num_params;
    int64_t file_bytes;
    vit_file_format format;
    char name[128];         /* config.json architecture, or a name made from the shapes */
    vit_preprocess_cfg pre; /* from config.json, or the tutorial's default */
} vit_model_info;

/* Load a model: `.safetensors` (timm layout; config.json and labels.txt beside it are read when
 * present), `.vitq` (int8) or `.vitl` (lite). The kind is told by the file's magic, not its
 * name. The file is read whole into private memory, never mapped: whatever happens to it later
 * (truncated, rewritten in place) cannot crash a session or change its weights, and a change
 * while it is being read fails the load with a message. */
vit_status vit_model_load(const char *path, vit_model **out, vit_error *err);
/* Load a safetensors model from memory (an embedded model); config_json may be NULL. */
vit_status vit_model_load_memory(const void *safetensors, size_t size, const char *config_json,
                                 const char *name, vit_model **out, vit_error *err);
void vit_model_free(vit_model *model);
const vit_model_info *vit_model_get_info(const vit_model *model);
/* The class name of `index` (valid UTF-8: bytes that were not are U+FFFD), or NULL when the
 * model has no labels for it. */
const char *vit_model_label(const vit_model *model, int32_t index);
/* Number of labels the model carries (0 when none). */
int32_t vit_model_num_labels(const vit_model *model);
/* Replace the model's labels from a text file (one per line) or text; the count must equal
 * num_classes. Call before sharing the model between threads. */
vit_status vit_model_load_labels(vit_model *model, const char *path, vit_error *err);
vit_status vit_model_set_labels(vit_model *model, const char *text, vit_error *err);
/* Write the model's int8 form as a .vitq file (int8 Linear weights + scales, fp32 for the rest,
 * config and labels inside; format in engine/vit-file.c). Written to a temporary file and
 * renamed, so a failure leaves no partial file. */
vit_status vit_model_export_vitq(const vit_model *model, int per_channel, const char *path,
                                 vit_error *err);
/* Write the model as a lite file (.vitl) for the optimized variant: int8 weights prepacked for
 * this CPU's best kernel (vit_session_kernel's name), 64-byte aligned, with a versioned,
 * checksummed header and tensor table (format in engine/vit-lite.c). Loading one with
 * vit_model_load is one read and checks, no conversion; a file packed for a kernel the CPU lacks is
 * repacked when a session is made. Lite models run the optimized variant only. Written to a
 * temporary file and renamed. */
vit_status vit_model_export_vitl(const vit_model *model, int per_channel, const char *path,
                                 vit_error *err);
/* The same, packed for `kernel` (as vit_session_opts.kernel: NULL or "" = the best this CPU
 * has; an unknown or unsupported name is logged and gives the best). */
vit_status vit_model_export_vitl_for(const vit_model *model, int per_channel, const char *kernel,
                                     const char *path, vit_error *err);
/* 1 if a session of this variant can be made from this model. */
int vit_model_supports(const vit_model *model, vit_variant v);

/* ---------------------------------------------------------------------------------------------
 * Sessions: the plan and buffers for running one model with one variant */

typedef struct vit_session vit_session;

typedef enum {
    VIT_ATTENTION_AUTO = 0, /* the fastest this CPU has */
    VIT_ATTENTION_FP32,     /* fp32 products throughout */
} vit_attention;

typedef enum {
    VIT_PROFILE_OFF = 0,
    VIT_PROFILE_WALL, /* wall clock */
    VIT_PROFILE_CPU,  /* the calling thread's CPU time (1 thread on a busy machine) */
} vit_profile;

/* Fusions of the optimized variant (vit_session_opts.unfuse), each replaced by its plain steps:
 *   LN        LayerNorm to fp32, then a separate per-row quantization pass
 *   GELU      fc1 stores fp32, then a separate GELU pass
 *   ADD       proj / fc2 store fp32, then a separate residual-add pass
 *   ATTENTION per head: scores by sgemm (OpenBLAS), softmax pass, sgemm with v
 *   PATCH     the patch embedding in fp32 (sgemm) instead of int8 */
#define VIT_UNFUSE_LN 1u
#define VIT_UNFUSE_GELU 2u
#define VIT_UNFUSE_ADD 4u
#define VIT_UNFUSE_ATTENTION 8u
#define VIT_UNFUSE_PATCH 16u
#define VIT_UNFUSE_ALL 31u

typedef struct {
    vit_variant variant;
    int32_t threads;     /* 0 = all cores */
    int32_t per_channel; /* int8: per-output-channel weight scales instead of per-tensor */
    /* The kernel family, "scalar", "avx2" or "avx512-vnni"; NULL or "" = the best this CPU has
     * (within VIT_CPU). It picks the int8 GEMM of the int8 and optimized variants, and for fp32
     * our GEMM (avx2, avx512-vnni) or OpenBLAS (scalar). An unknown or unsupported name is
     * logged as a warning and gives the best. */
    const char *kernel;
    /* The optimized variant's attention: VIT_ATTENTION_AUTO uses bf16 products (fp32 sums and
     * softmax) where the CPU has AVX512_BF16 and the head size allows, VIT_ATTENTION_FP32 never. */
    vit_attention attention;
    /* The optimized variant's fusions to turn off, VIT_UNFUSE_* bits (0 = all fused): a
     * developer's measurement of what each pays; results stay within the test tolerances. */
    uint32_t unfuse;
    /* Time per op class of every run, in every variant (vit_session_profile; the mean per run
     * is also logged at INFO, vit_log_set, when the session is freed). Chosen here: off, the
     * forward reads no clock. */
    vit_profile profile;
    /* Attention rollout (Abnar & Zuidema, 2020) of every run, for vit_session_rollout: each
     * block's softmax probabilities averaged over heads where the variant produces them, kept
     * in a buffer made here (depth x tokens^2 floats, deit_base 1.9 MB; bf16 in the optimized
     * variant, half that), multiplied after the forward (the optimized variant: beside its last
     * block's fc1, in whose profile time it then is). 0 (the default): no buffer, no extra work.
     * Not with VIT_UNFUSE_ATTENTION. */
    int32_t rollout;
} vit_session_opts;

/* The op classes of a profile (vit_session_opts.profile). LAYERNORM includes the int8 and
 * optimized variants' per-row activation quantization; FC1 its GELU; PROJ and FC2 their
 * residual add (fused into the GEMM but in int8); HEAD the final LayerNorm of the class
 * token(s) too; OTHER the rest (im2col, class and position embedding). */
typedef enum {
    VIT_OP_PATCH = 0, /* patch embedding (its GEMM) */
    VIT_OP_LAYERNORM, /* LayerNorm (+ quantize) */
    VIT_OP_QKV,
    VIT_OP_ATTENTION, /* scores, softmax, context */
    VIT_OP_PROJ,
    VIT_OP_FC1,       /* fc1 + GELU */
    VIT_OP_FC2,
    VIT_OP_HEAD,
    VIT_OP_OTHER,
    VIT_OP_COUNT
} vit_op;

typedef struct {
    int32_t runs;              /* forwards profiled so far */
    double forward_ms;         /* the last run's forward */
    double ms[VIT_OP_COUNT];   /* the last run's time per class; they sum to forward_ms */
    double total_forward_ms;   /* summed over the runs */
    double total_ms[VIT_OP_COUNT];
    /* floating-point (fp32) or integer (int8, optimized) operations of one forward per class,
     * 2·M·N·K per matrix product from the shapes (ATTENTION: q k^T and p v); 0 where none */
    double ops[VIT_OP_COUNT];
} vit_profile_stats;

/* "patch", "layernorm", "qkv", "attention", "proj", "fc1", "fc2", "head", "other"; NULL else */
const char *vit_op_name(vit_op op);

/* Every field zero / NULL: fp32, all cores, per-tensor scales, the best kernel, automatic
 * attention, everything fused, no profile, no rollout. */
vit_session_opts vit_session_opts_default(void);

/* Build what sessions made with `opts` will read (variant, per_channel and kernel count; threads
 * do not): for fp32 the Linears packed for our GEMM, for int8 and optimized the int8 Linears
 * quantized and packed for the kernel. Call before sharing the model between threads: it
 * changes the model, and is not safe while sessions of it are being made or run. Preparing
 * again for what is already there does nothing; a lite (.vitl) model needs nothing. */
vit_status vit_model_prepare(vit_model *model, const vit_session_opts *opts, vit_error *err);
/* Keep the fp32 Linear weights only in their packed form: pack them for the fp32 variant if
 * vit_model_prepare has not (layer by layer, so that they are never held twice), then hand the
 * plain copies back to the kernel (deit_base: 346 MB). Afterwards what would read the plain
 * copies fails with VIT_ERR_UNSUPPORTED naming this call: preparing int8 weights not prepared
 * before, fp32 sessions on OpenBLAS (kernel "scalar"), exporting without prepared int8 weights.
 * So prepare every int8 variant you need first. Refused where the fp32 variant runs on
 * OpenBLAS (no AVX2), which reads the plain copies. Same threading rule as vit_model_prepare. */
vit_status vit_model_release_linears(vit_model *model, vit_error *err);

vit_status vit_session_new(const vit_model *model, const vit_session_opts *opts, vit_session **out,
                           vit_error *err);
void vit_session_free(vit_session *session);
const vit_model *vit_session_model(const vit_session *session);
vit_variant vit_session_variant(const vit_session *session);
int32_t vit_session_threads(const vit_session *session);
/* The session's profile (vit_session_opts.profile): the last run's time per op class and the
 * sums over its runs. VIT_ERR_ARG when the session was made without one. */
vit_status vit_session_profile(const vit_session *session, vit_profile_stats *out,
                               vit_error *err);
/* The CPU kernel in use: fp32 "avx512", "avx2" or "openblas"; int8 and optimized "avx512-vnni",
 * "avx-vnni" (AVX2 with AVX-VNNI), "avx2" or "scalar". */
const char *vit_session_kernel(const vit_session *session);

typedef struct {
    double decode_ms;     /* filled by callers that decode (vit_image_load is timed by them) */
    double preprocess_ms; /* resize, crop, normalize */
    double forward_ms;    /* the transformer */
} vit_timing;

/* Run the forward pass on a preprocessed input (in_chans, img_size, img_size) and write
 * num_classes logits. */
vit_status vit_session_run(vit_session *session, const float *input, float *logits,
                           vit_error *err);

#define VIT_TOPK_MAX 16
typedef struct {
    int32_t k;
    int32_t index[VIT_TOPK_MAX];
    float prob[VIT_TOPK_MAX];
    vit_timing timing;
} vit_prediction;

/* Preprocess with the model's config, run, softmax, top-k (k <= VIT_TOPK_MAX). */
vit_status vit_session_classify(vit_session *session, const vit_image *image, int32_t k,
                                vit_prediction *out, vit_error *err);
/* The last logits / probabilities of vit_session_classify (num_classes floats, owned by it). */
const float *vit_session_logits(const vit_session *session);
const float *vit_session_probs(const vit_session *session);
/* The attention rollout of the last successful run (vit_session_run or _classify) of a session
 * made with opts.rollout: grid_h x grid_w floats (the patch grid, img_size / patch_size a
 * side), row-major, the largest 1; owned by the session, valid until its next run. Defined as
 *     A_l  = block l's softmax probabilities averaged over heads (tokens x tokens)
 *     A^_l = 0.5 A_l + 0.5 I
 *     r    = e_cls A^_L ... A^_1   (distilled models: the mean of the cls and dist rows)
 *     grid = r over the patch tokens, reshaped to the grid, divided by its maximum.
 * NULL (and 0 x 0) without opts.rollout or before a successful run. */
const float *vit_session_rollout(const vit_session *session, int32_t *grid_h, int32_t *grid_w);

/* ---------------------------------------------------------------------------------------------
 * Output files: every file ViT Lens writes (.vitq, .vitl, PNGs, exports, snapshots) goes through
 * these. The data goes to a temporary file beside the target (unnamed until complete, where the
 * file system allows), then fsync and rename: the target is the old file or the whole new one.
 * Only regular files are replaced: a device, FIFO or folder at the path is refused with a
 * message; a symbolic link is followed and its target replaced. */
typedef struct vit_output vit_output;
vit_status vit_output_open(const char *path, vit_output **out, vit_error *err);
/* Where to write (stdio; owned by the output). */
FILE *vit_output_stream(vit_output *output);
/* Flush, fsync and rename over the target; frees the output, whatever the result. */
vit_status vit_output_commit(vit_output *output, vit_error *err);
/* Drop what was written (the target is untouched); frees the output. NULL is fine. */
void vit_output_abort(vit_output *output);
/* Async-signal-safe: remove the named temporary files of outputs still open. A program calls
 * it from its SIGINT/SIGTERM handler (the engine installs no handlers). */
void vit_output_remove_temporaries(void);

/* ---------------------------------------------------------------------------------------------
 * Small helpers */

void vit_softmax(const float *logits, float *probs, int32_t n);
/* Indices of the k largest values, largest first (ties: lower index first). */
void vit_topk(const float *values, int32_t n, int32_t k, int32_t *index);
/* The length of the valid UTF-8 sequence starting at s (1 to 4), or 0 when none starts there
 * (overlong forms, surrogates and code points past U+10FFFF included). Labels are made valid
 * UTF-8 when loaded; programs use this to escape other text from files. */
int vit_utf8_length(const char *s);
/* Monotonic clock in milliseconds. */
double vit_now_ms(void);
/* The instruction sets the engine uses on this CPU: "avx512 (vnni, bf16)", "avx512 (vnni)",
 * "avx2 (avx-vnni)", "avx2" or "scalar". The environment variable VIT_CPU (scalar, avx2,
 * avx-vnni, avx512) caps them, so that a machine behaves as one with less: kernels, packed
 * layouts and .vitl checks all follow. */
const char *vit_cpu_describe(void);

#ifdef __cplusplus
}
#endif
#endif /* VIT_H */
