"""The three GAN setups as plain nn.Modules: SimpleGAN, ComplexGAN, SplitGAN."""
