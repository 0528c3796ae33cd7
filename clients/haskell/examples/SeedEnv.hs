{-# LANGUAGE DataKinds, TypeApplications #-}
-- The seed's snippet with the URL from the first argument, else OWT_URL, else the
-- seed's own.
import Control.Applicative ((<|>))
import Data.Maybe (fromMaybe, listToMaybe)
import System.Environment (getArgs, lookupEnv)

import Owt

main :: IO ()
main = do
  arg <- listToMaybe <$> getArgs
  env <- lookupEnv "OWT_URL"
  let url = fromMaybe "http://localhost:9876/owt" (arg <|> env)
  mkOwtClient url >>= owt @POST "f(sota.hard_task)" "solve AGI" >>= putBS
