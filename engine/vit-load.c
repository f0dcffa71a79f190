/* vit-load.c — the one entry point for model files: map the file once, tell its kind by its
 * first bytes (never its name), and hand the mapping to that kind's reader: .vitl (vit-lite.c,
 * which keeps the mapping), .vitq (vit-file.c) or safetensors (vit-model.c). */
#include "vit-impl.h"

vit_status vit_model_load(const char *path, vit_model **out, vit_error *err)
{
    if (!out)
        return vit_fail(err, VIT_ERR_ARG, "no output pointer given");
    *out = NULL;
    if (!path)
        return vit_fail(err, VIT_ERR_ARG, "no model path given");
    vit_mapped_file map;
    vit_status s = vit_map_file(path, &map, err);
    if (s != VIT_OK)
        return s;
    if (vit_file_is_vitl(map.data, map.size))
        s = vit_model_from_vitl(&map, path, out, err); /* keeps the mapping on success */
    else if (vit_file_is_vitq(map.data, map.size))
        s = vit_model_from_vitq(map.data, map.size, path, 1, out, err);
    else
        s = vit_model_from_safetensors_file(&map, path, out, err);
    vit_unmap_file(&map);
    return s;
}
