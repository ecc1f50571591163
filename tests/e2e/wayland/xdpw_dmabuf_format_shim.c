/* LD_PRELOAD shim for xdg-desktop-portal-wlr 0.7.x on a compositor without DRM (sway headless + pixman renderer).
 *
 * xdpw 0.7.0/0.7.1 refuse to start a screencast unless wlr-screencopy announced a linux_dmabuf format, even though
 * they would then stream in shared memory anyway ("unable to receive a valid format from wlr_screencopy";
 * emersion/xdg-desktop-portal-wlr#289, fixed in 0.8.0 by commit 2128853 "Introduce xdpw_buffer_constraints").
 * A compositor with no render node never sends that event. This shim wraps the screencopy frame listener that
 * xdpw registers: after each real `buffer` (shm) event it also delivers a `linux_dmabuf` event with the same format
 * and size. With no GBM device xdpw finds no modifiers and offers PipeWire only the shm (MemFd) format, so every
 * pixel still comes from the compositor's real screencopy. Only in the xdpw process (grim, which xdpw runs for
 * screenshots, inherits LD_PRELOAD and must stay untouched). Test-environment only; never shipped.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <string.h>

#include <errno.h>

struct wl_proxy;
extern const char *wl_proxy_get_class(struct wl_proxy *proxy);
extern uint32_t wl_proxy_get_version(struct wl_proxy *proxy);

typedef void (*buffer_fn)(void *, struct wl_proxy *, uint32_t, uint32_t, uint32_t, uint32_t);
typedef void (*dmabuf_fn)(void *, struct wl_proxy *, uint32_t, uint32_t, uint32_t);

/* zwlr_screencopy_frame_v1 events, in protocol order */
enum { EV_BUFFER, EV_FLAGS, EV_READY, EV_FAILED, EV_DAMAGE, EV_LINUX_DMABUF, EV_BUFFER_DONE, EV_COUNT };

static void (*const *original)(void);
static void (*wrapped[EV_COUNT])(void);

static uint32_t drm_from_shm(uint32_t format) {
    if (format == 0) return 0x34325241; /* WL_SHM_FORMAT_ARGB8888 -> DRM_FORMAT_ARGB8888 */
    if (format == 1) return 0x34325258; /* WL_SHM_FORMAT_XRGB8888 -> DRM_FORMAT_XRGB8888 */
    return format;                      /* the other wl_shm codes are DRM fourccs */
}

static void on_buffer(void *data, struct wl_proxy *frame, uint32_t format, uint32_t width, uint32_t height,
                      uint32_t stride) {
    ((buffer_fn)original[EV_BUFFER])(data, frame, format, width, height, stride);
    if (original[EV_LINUX_DMABUF])
        ((dmabuf_fn)original[EV_LINUX_DMABUF])(data, frame, drm_from_shm(format), width, height);
}

int wl_proxy_add_listener(struct wl_proxy *proxy, void (**implementation)(void), void *data) {
    static int (*real)(struct wl_proxy *, void (**)(void), void *);
    if (!real)
        real = (int (*)(struct wl_proxy *, void (**)(void), void *))dlsym(RTLD_NEXT, "wl_proxy_add_listener");
    /* only xdpw itself (not grim, which it runs for screenshots and inherits LD_PRELOAD), and only a v3 frame
     * whose listener has the linux_dmabuf slot */
    if (strcmp(program_invocation_short_name, "xdg-desktop-portal-wlr") == 0 &&
            strcmp(wl_proxy_get_class(proxy), "zwlr_screencopy_frame_v1") == 0 && wl_proxy_get_version(proxy) >= 3) {
        original = (void (*const *)(void))implementation;
        memcpy(wrapped, implementation, sizeof(wrapped));
        wrapped[EV_BUFFER] = (void (*)(void))on_buffer;
        return real(proxy, wrapped, data);
    }
    return real(proxy, implementation, data);
}
