/* vit-load.c — the one entry point for model files: read the file once into private memory
 * (vit-io.c), tell its kind by its first bytes (never its name), and hand the data to that kind's
 * reader: .vitl (vit-lite.c, which keeps the data as its weights), .vitq (vit-file.c) or
 * safetensors (vit-model.c). */
#include "vit-impl.h"

vit_status vit_model_load(const char *path, vit_model **out, vit_error *err)
{
    if (!out)
        return vit_fail(err, VIT_ERR_ARG, "no output pointer given");
    *out = NULL;
    if (!path)
        return vit_fail(err, VIT_ERR_ARG, "no model path given");
    vit_file_data file;
    vit_status s = vit_file_read(path, &file, err);
    if (s != VIT_OK)
        return s;
    if (vit_file_is_vitl(file.data, file.size))
        s = vit_model_from_vitl(&file, path, out, err); /* keeps the data on success */
    else if (vit_file_is_vitq(file.data, file.size))
        s = vit_model_from_vitq(file.data, file.size, path, 1, out, err);
    else
        s = vit_model_from_safetensors_file(&file, path, out, err);
    vit_file_data_free(&file);
    return s;
}
