weld_component_macro::bindgen!({
    inline: "
        package a:b;
        world w { import f: func() -> stream<u8>; }
    ",
});

fn main() {}
