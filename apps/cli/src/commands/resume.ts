/** `tunnel resume NAME…`: a paused tunnel listens again on the same port (see pause.ts). */
import { defineCommand } from "citty";
import { VERB_DESCRIPTIONS } from "../descriptions.ts";
import { namesFrom } from "../tunnels.ts";
import { steer } from "./pause.ts";

export default defineCommand({
  meta: { name: "resume", description: VERB_DESCRIPTIONS.resume },
  args: {
    name: { type: "positional", required: true, description: "names of the tunnels to resume (tunnel list)" },
  },
  async run({ args }) {
    await steer(namesFrom(args), "resume");
  },
});
