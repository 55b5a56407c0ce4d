#!/usr/bin/env node
import { Command } from "commander";
import { ConfigError, loadConfig } from "../config.js";
import { createGateway } from "../gateway.js";

const program = new Command()
  .name("veil-business")
  .description("The business gateway: the business's own end-to-end endpoint on Veil")
  .version("0.1.0");

program
  .command("serve")
  .description("Run the gateway (configured by VEIL_BUSINESS_* variables; see docs/business.md)")
  .action(async () => {
    let config: ReturnType<typeof loadConfig>;
    try {
      config = loadConfig(process.env);
    } catch (error) {
      if (error instanceof ConfigError) {
        for (const problem of error.problems) console.error(`veil-business: ${problem}`);
        process.exit(2);
      }
      throw error;
    }
    try {
      const gateway = await createGateway(config);
      const url = await gateway.listen();
      const shutdown = async () => {
        await gateway.close();
        process.exit(0);
      };
      process.once("SIGINT", () => void shutdown());
      process.once("SIGTERM", () => void shutdown());
      process.stdout.write(
        `veil-business: listening on ${url} (phone-number id ${gateway.phoneNumberId})\n`,
      );
    } catch (error) {
      console.error(`veil-business: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    }
  });

await program.parseAsync(process.argv);
