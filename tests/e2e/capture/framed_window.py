"""A decorated (window-manager framed) Tk window whose content is pattern_window's 256x128 gradient, for the window
capture tests (run as a subprocess). Usage: framed_window.py TITLE X Y [--cover]. ``--cover``: a plain grey
window instead (to lie over another one). Prints ``ready <id>`` once drawn, with the id of the outermost window
(``wm frame``: the window manager's frame when it reparented the window, else the toplevel itself)."""

import sys
import tkinter as tk

from pattern_window import gradient_ppm  # same directory (the script's own folder is on sys.path)


def main() -> None:
    title, x, y = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    root = tk.Tk()
    root.title(title)
    root.geometry(f"256x128+{x}+{y}")
    root.resizable(False, False)
    c = tk.Canvas(root, width=256, height=128, highlightthickness=0, bd=0, bg="#808080")
    c.place(x=0, y=0)
    grad = tk.PhotoImage(data=gradient_ppm(), format="ppm")
    if "--cover" not in sys.argv:
        c.create_image(0, 0, image=grad, anchor="nw")

    def ready() -> None:
        print("ready", int(root.wm_frame(), 16), flush=True)

    root.after(300, ready)
    root.mainloop()


if __name__ == "__main__":
    main()
