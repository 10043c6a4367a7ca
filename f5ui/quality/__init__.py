"""Quality room: how a take sounds, apart from its words: speaker similarity to the reference,
loudness, clipping and long silences. (Which words it says is the timing room's check.)"""
