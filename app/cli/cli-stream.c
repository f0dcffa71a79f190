/* cli-stream.c — `vitlens-cli stream`: classify the frames of a camera, a video or a GStreamer
 * pipeline, headless, with the app's own capture → inference path (VitlensCamera's two-branch
 * pipeline, VitlensInference's one thread with a latest-frame slot) on a GMainLoop. */
#include "cli-common.h"

#ifndef VITLENS_HAVE_GST

int cli_stream(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_error("stream: this vitlens-cli was built without GStreamer");
    return 1;
}

#else

#include "vitlens-camera-monitor.h"
#include "vitlens-camera.h"
#include "vitlens-data.h"
#include "vitlens-inference.h"

#include <getopt.h>
#include <glib-unix.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
    fputs("Usage: " CLI_PROG " stream [--model PATH] [--variant fp32|int8|optimized] [--threads N]\n"
          "                          [--top K] [--frames N] [--json]\n"
          "                          (--test-pattern [--size WxH] [--fps N] | --video FILE [--loop]\n"
          "                           | --camera NAME | --pipeline DESC)\n"
          "       " CLI_PROG " stream --list-cameras\n"
          "Classifies the frames of a live source, one line per classified frame, then a summary.\n"
          "Frames arrive at the source's rate; the classifier takes the newest one whenever it is\n"
          "free and the frames it had no time for are dropped (and counted).\n"
          "  --test-pattern  videotestsrc, live, 640x480 at 30 fps unless --size / --fps\n"
          "  --video FILE    any video GStreamer can decode; --loop starts it again at the end\n"
          "  --camera NAME   a camera by name or device path (see --list-cameras)\n"
          "  --pipeline DESC a gst-launch source description giving raw video, e.g.\n"
          "                  \"v4l2src device=/dev/video0\" or \"filesrc location=a.avi ! decodebin\"\n"
          "  --frames N      stop after N source frames (default: at the end of the stream, or ^C)\n"
          "  --json          one JSON object per line; the last line is {\"summary\": {...}}\n"
          "Exit status: 0 at the end of the stream, 1 when the source or the model fails.\n",
          f);
}

typedef struct {
    GMainLoop *loop;
    VitlensCamera *camera;
    VitlensInference *inference;
    const char *model_name;
    vit_variant variant;
    int json;
    int status;
    int finished;
    guint64 printed;
} Stream;

static void print_result(Stream *st, const VitlensResult *r)
{
    char buf[32];
    if (st->json) {
        printf("{\"frame\": %" G_GUINT64_FORMAT ", \"pts_ms\": ", r->number);
        if (r->pts >= 0)
            printf("%.3f", r->pts / 1e6);
        else
            fputs("null", stdout);
        fputs(", \"top\": [", stdout);
        for (int j = 0; j < r->k; j++) {
            printf("%s{\"index\": %d, \"label\": ", j ? ", " : "", r->index[j]);
            if (!r->label[j])
                snprintf(buf, sizeof buf, "%d", r->index[j]);
            cli_json_string(stdout, r->label[j] ? r->label[j] : buf);
            printf(", \"prob\": ");
            cli_json_number(stdout, r->prob[j], 6);
            printf("}");
        }
        printf("], \"forward_ms\": %.3f, \"preprocess_ms\": %.3f, \"latency_ms\": %.3f, "
               "\"variant\": \"%s\"}\n",
               r->forward_ms, r->preprocess_ms, r->latency_ms, vit_variant_name(r->variant));
    } else {
        printf("frame %5" G_GUINT64_FORMAT "  pts %9.1f ms  forward %7.2f ms  latency %7.2f ms ",
               r->number, r->pts >= 0 ? r->pts / 1e6 : -1.0, r->forward_ms, r->latency_ms);
        for (int j = 0; j < r->k; j++) {
            if (!r->label[j])
                snprintf(buf, sizeof buf, "%d", r->index[j]);
            printf(" %d %s %.1f%%", j + 1, r->label[j] ? r->label[j] : buf, 100.0 * r->prob[j]);
        }
        putchar('\n');
    }
    fflush(stdout);
}

static void on_result(VitlensInference *inference, VitlensResult *result, gpointer data)
{
    Stream *st = data;
    (void)inference;
    if (st->finished)
        return;
    st->printed++;
    print_result(st, result);
}

static void print_summary(Stream *st)
{
    VitlensInferenceStats s;
    vitlens_inference_get_stats(st->inference, &s);
    guint64 frames = vitlens_camera_get_frame_count(st->camera);
    double source_fps = vitlens_camera_get_source_fps(st->camera);
    /* Every source frame not classified: replaced in the frame slot while the worker was busy
     * (s.dropped), or left behind by the leaky queue (a file's first frames, while the
     * pipeline prerolls). */
    guint64 dropped = frames > s.inferred + s.failed ? frames - s.inferred - s.failed : 0;
    if (dropped < s.dropped)
        dropped = s.dropped;
    if (st->json) {
        printf("{\"summary\": {\"frames\": %" G_GUINT64_FORMAT ", \"inferred\": %" G_GUINT64_FORMAT
               ", \"inference_fps\": %.3f, \"source_fps\": %.3f, \"dropped\": %" G_GUINT64_FORMAT
               ", \"failed\": %" G_GUINT64_FORMAT ", \"latency_ms_median\": %.3f"
               ", \"forward_ms_median\": %.3f, \"variant\": \"%s\", \"model\": ",
               frames, s.inferred, s.inference_fps, source_fps, dropped, s.failed,
               s.latency_ms_median, s.forward_ms_median, vit_variant_name(st->variant));
        cli_json_string(stdout, st->model_name);
        fputs(", \"source\": ", stdout);
        cli_json_string(stdout, vitlens_camera_get_source_name(st->camera));
        fputs("}}\n", stdout);
    } else {
        printf("%" G_GUINT64_FORMAT " source frames at %.1f fps; %" G_GUINT64_FORMAT
               " classified at %.1f fps, %" G_GUINT64_FORMAT " dropped; median latency %.1f ms, "
               "median forward %.1f ms (%s)\n",
               frames, source_fps, s.inferred, s.inference_fps, dropped, s.latency_ms_median,
               s.forward_ms_median, vit_variant_name(st->variant));
    }
    fflush(stdout);
}

/* The stream ended (EOS, --frames, ^C): let the worker finish what it holds, print what it
 * posted, then the summary. */
static void finish(Stream *st, int status)
{
    if (st->finished)
        return;
    vitlens_camera_stop(st->camera);
    if (status == 0) {
        vitlens_inference_drain(st->inference);
        while (g_main_context_iteration(NULL, FALSE))
            ;
        print_summary(st);
    }
    st->finished = 1;
    st->status = status;
    g_main_loop_quit(st->loop);
}

static void on_state(VitlensCamera *camera, GParamSpec *pspec, gpointer data)
{
    Stream *st = data;
    (void)pspec;
    switch (vitlens_camera_get_state(camera)) {
    case VITLENS_CAMERA_STATE_EOS: finish(st, 0); break;
    case VITLENS_CAMERA_STATE_ERROR:
    case VITLENS_CAMERA_STATE_NO_CAMERA: {
        const GError *e = vitlens_camera_get_error(camera);
        cli_error("%s", e ? e->message : "the stream failed");
        finish(st, 1);
        break;
    }
    default: break;
    }
}

static void on_frame_error(VitlensInference *inference, GError *error, gpointer data)
{
    Stream *st = data;
    (void)inference;
    cli_error("%s", error->message);
    finish(st, 1);
}

typedef struct {
    gboolean done;
    GError *error;
} Load;

static void on_loaded(GObject *object, GAsyncResult *result, gpointer data)
{
    Load *load = data;
    vitlens_inference_load_model_finish(VITLENS_INFERENCE(object), result, &load->error);
    load->done = TRUE;
}

/* --model PATH, or the embedded model, loaded the way the app loads it (on the inference
 * worker); prints the error and returns NULL. */
static VitlensInference *load_model(const char *path)
{
    size_t size = 0;
    if (!path && !vitlens_data_model(&size)) {
        cli_error("this build has no embedded model; give one with --model PATH");
        return NULL;
    }
    g_autoptr(VitlensInference) inference = vitlens_inference_new();
    g_autoptr(GFile) file = path ? g_file_new_for_path(path) : NULL;
    Load load = {0};
    vitlens_inference_load_model_async(inference, file, NULL, on_loaded, &load);
    /* The answer comes on this (the default) main context; nothing else runs yet. */
    while (!load.done)
        g_main_context_iteration(NULL, TRUE);
    if (load.error) {
        cli_error("%s%s", path ? "" : "embedded model: ", load.error->message);
        g_error_free(load.error);
        return NULL;
    }
    return g_steal_pointer(&inference);
}

static gboolean on_sigint(gpointer data)
{
    finish(data, 0);
    return G_SOURCE_REMOVE;
}

static int list_cameras(VitlensCameraMonitor *monitor, FILE *f, const char *indent)
{
    guint n = g_list_model_get_n_items(G_LIST_MODEL(monitor));
    for (guint i = 0; i < n; i++) {
        g_autoptr(GstDevice) d = g_list_model_get_item(G_LIST_MODEL(monitor), i);
        g_autofree char *name = gst_device_get_display_name(d);
        g_autofree char *path = vitlens_camera_device_get_path(d);
        fprintf(f, "%s%s%s%s\n", indent, name, path ? "\t" : "", path ? path : "");
    }
    return (int)n;
}

static bool parse_size(const char *s, int32_t *w, int32_t *h)
{
    char *end;
    long a = strtol(s, &end, 10);
    if (end == s || (*end != 'x' && *end != 'X'))
        goto bad;
    const char *t = end + 1;
    long b = strtol(t, &end, 10);
    if (end == t || *end || a < 16 || b < 16 || a > 8192 || b > 8192)
        goto bad;
    *w = (int32_t)a;
    *h = (int32_t)b;
    return true;
bad:
    cli_error("--size: '%s' is not WIDTHxHEIGHT (16 to 8192 each)", s);
    return false;
}

/* Pick the source: returns 0 when set, or an exit status after printing why not. */
static int set_source(VitlensCamera *camera, const char *camera_name, const char *video,
                      const char *pipeline, int test_pattern, int32_t w, int32_t h, int32_t fps)
{
    int given = !!camera_name + !!video + !!pipeline + !!test_pattern;
    if (given != 1) {
        cli_error("stream: give one source: --test-pattern, --video FILE, --camera NAME or "
                  "--pipeline DESC");
        usage(stderr);
        return 2;
    }
    if (test_pattern) {
        vitlens_camera_set_test_pattern(camera, w, h, fps);
    } else if (video) {
        if (!g_file_test(video, G_FILE_TEST_EXISTS)) {
            cli_error("%s: no such file", video);
            return 1;
        }
        if (g_file_test(video, G_FILE_TEST_IS_DIR)) {
            cli_error("%s is a folder, not a video", video);
            return 1;
        }
        g_autoptr(GFile) file = g_file_new_for_commandline_arg(video);
        vitlens_camera_set_file(camera, file);
    } else if (pipeline) {
        vitlens_camera_set_pipeline(camera, pipeline);
    } else {
        g_autoptr(VitlensCameraMonitor) monitor = vitlens_camera_monitor_new();
        g_autoptr(GError) error = NULL;
        if (!vitlens_camera_monitor_start(monitor, &error))
            g_debug("%s", error->message);
        GstDevice *device = vitlens_camera_monitor_find(monitor, camera_name);
        if (!device) {
            guint n = g_list_model_get_n_items(G_LIST_MODEL(monitor));
            if (n == 0) {
                cli_error("no camera named '%s': no camera was found on this computer%s",
                          camera_name,
                          g_file_test("/dev/video0", G_FILE_TEST_EXISTS) ? ""
                                                                         : " (no /dev/video*)");
            } else {
                cli_error("no camera named '%s'; the cameras found are:", camera_name);
                list_cameras(monitor, stderr, "  ");
            }
            return 1;
        }
        vitlens_camera_set_device(camera, device);
    }
    return 0;
}

int cli_stream(int argc, char **argv)
{
    cli_opts o = {.variant = VIT_VARIANT_FP32, .threads = 0, .top = 5};
    const char *camera_name = NULL, *video = NULL, *pipeline = NULL;
    int32_t width = 640, height = 480, fps = 30, frames = 0;
    int json = 0, test_pattern = 0, loop = 0, list = 0;
    static const struct option longopts[] = {
        CLI_OPTS_LONG,
        {"frames", required_argument, NULL, 'n'},   {"json", no_argument, NULL, 'j'},
        {"test-pattern", no_argument, NULL, 'T'},   {"size", required_argument, NULL, 's'},
        {"fps", required_argument, NULL, 'f'},      {"video", required_argument, NULL, 'V'},
        {"loop", no_argument, NULL, 'l'},           {"camera", required_argument, NULL, 'c'},
        {"pipeline", required_argument, NULL, 'p'}, {"list-cameras", no_argument, NULL, 'L'},
        {NULL, 0, NULL, 0},
    };
    int c, common;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:v:t:k:n:jTs:f:V:lc:p:Lh", longopts, NULL)) != -1) {
        if ((common = cli_common_option(c, optarg, &o)) == CLI_OPT_BAD)
            return 2;
        if (common == CLI_OPT_DONE)
            continue;
        switch (c) {
        case 'n':
            if (!cli_parse_int("--frames", optarg, 1, INT32_MAX, &frames))
                return 2;
            break;
        case 'j': json = 1; break;
        case 'T': test_pattern = 1; break;
        case 's':
            if (!parse_size(optarg, &width, &height))
                return 2;
            break;
        case 'f':
            if (!cli_parse_int("--fps", optarg, 1, 240, &fps))
                return 2;
            break;
        case 'V': video = optarg; break;
        case 'l': loop = 1; break;
        case 'c': camera_name = optarg; break;
        case 'p': pipeline = optarg; break;
        case 'L': list = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        cli_error("stream: unexpected argument '%s'", argv[optind]);
        usage(stderr);
        return 2;
    }

    g_autoptr(GError) error = NULL;
    if (!gst_init_check(NULL, NULL, &error)) {
        cli_error("GStreamer cannot start: %s", error->message);
        return 1;
    }

    if (list) {
        g_autoptr(VitlensCameraMonitor) monitor = vitlens_camera_monitor_new();
        if (!vitlens_camera_monitor_start(monitor, &error)) {
            cli_error("%s", error->message);
            return 1;
        }
        if (list_cameras(monitor, stdout, "") == 0)
            fprintf(stderr, CLI_PROG ": no camera was found\n");
        return 0;
    }

    g_autoptr(VitlensCamera) camera = vitlens_camera_new();
    int rc = set_source(camera, camera_name, video, pipeline, test_pattern, width, height, fps);
    if (rc)
        return rc;
    vitlens_camera_set_loop(camera, loop);
    vitlens_camera_set_max_frames(camera, (guint64)frames);

    const char *model_file = cli_model_path(o.model_path); /* ORG/NAME: the hub cache's file */
    if (o.model_path && !model_file)
        return 1;
    g_autoptr(VitlensInference) inference = load_model(model_file);
    if (!inference)
        return 1;
    const VitlensModelFacts *facts = vitlens_inference_get_model(inference);
    if (!facts->supports[o.variant]) {
        cli_error("the %s variant cannot be made from this model", vit_variant_name(o.variant));
        return 1;
    }

    Stream st = {
        .loop = g_main_loop_new(NULL, FALSE),
        .camera = camera,
        .inference = inference,
        .model_name = cli_model_display_name(o.model_path),
        .variant = o.variant,
        .json = json,
    };
    if (!json)
        printf("%s → %s (%s, %s)\n", vitlens_camera_get_source_name(camera), facts->architecture,
               st.model_name, vit_variant_name(o.variant));
    vitlens_inference_set_frame_options(inference, o.variant, o.top, o.threads);
    vitlens_inference_set_keep_all_results(inference, TRUE);
    g_signal_connect(inference, "frame-result", G_CALLBACK(on_result), &st);
    g_signal_connect(inference, "frame-error", G_CALLBACK(on_frame_error), &st);
    g_signal_connect(camera, "notify::state", G_CALLBACK(on_state), &st);
    vitlens_camera_set_inference_func(camera, vitlens_inference_push_func, g_object_ref(inference),
                                      g_object_unref);
    guint sigint = g_unix_signal_add(SIGINT, on_sigint, &st);
    guint sigterm = g_unix_signal_add(SIGTERM, on_sigint, &st);

    vitlens_camera_play(camera);
    if (!st.finished)
        g_main_loop_run(st.loop);

    g_source_remove(sigint);
    g_source_remove(sigterm);
    vitlens_camera_stop(camera);
    vitlens_camera_set_inference_func(camera, NULL, NULL, NULL);
    g_signal_handlers_disconnect_by_data(camera, &st);
    g_signal_handlers_disconnect_by_data(inference, &st);
    while (g_main_context_iteration(NULL, FALSE)) /* idles holding refs on the inference */
        ;
    g_main_loop_unref(st.loop);
    /* the autoptr's unref joins the worker thread, which frees the model */
    return st.status;
}

#endif /* VITLENS_HAVE_GST */
