weld_component_macro::bindgen!({
    inline: "
        package a:b;
        world w {
            import f: func(x: u32 -> u32;
        }
    ",
});

fn main() {}
