#!/usr/bin/python3
"""Writes the image target's seed corpus (fuzz/corpus/image/): tiny valid JPEG
and PNG files of every colour type the decoders convert, with Pillow.
    /usr/bin/python3 fuzz/make_image_seeds.py fuzz/corpus/image
"""
import os
import sys

from PIL import Image

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rgb = Image.new("RGB", (9, 7))
rgb.putdata([(x * 28, y * 36, (x * y * 7) % 256) for y in range(7) for x in range(9)])
rgb.save(f"{out}/rgb.jpg", quality=90)
rgb.save(f"{out}/rgb-progressive.jpg", quality=75, progressive=True)
rgb.save(f"{out}/rgb-420.jpg", quality=50, subsampling=2)
rgb.convert("L").save(f"{out}/gray.jpg")
rgb.convert("CMYK").save(f"{out}/cmyk.jpg")
rgb.save(f"{out}/rgb.png")
rgb.convert("L").save(f"{out}/gray.png")
rgb.convert("P", palette=Image.ADAPTIVE, colors=8).save(f"{out}/palette.png")
rgba = rgb.convert("RGBA")
rgba.putalpha(128)
rgba.save(f"{out}/rgba.png")
rgb.convert("L").convert("I").save(f"{out}/gray16.png")
